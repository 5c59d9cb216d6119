"""
The benchmark's floor: the lead list's first page as the stack's minimum can serve it.

Mounted at ``/bench/`` only when ``CRM_BENCHMARK`` is on (``crm_project/urls.py``),
which ``bench/run`` sets for its own server and nothing else does. ``GET /bench/floor/leads``
answers what ``GET /api/v1/crm/leads`` answers a manager (the same page shape, the same fields,
the same order, the exact ``count``) with two raw SQL queries and orjson: no authentication,
no DRF, no ORM, no serializer. Each list scenario of the benchmark is reported as a ratio to it.
"""

from __future__ import annotations

import math

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from crm_project.core.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from crm_project.core.jsonencoding import dumps  # orjson
from leads.api.serializers import LeadSerializer

# The lead list's fields, as columns; its one computed field is added by ``_lead``.
FIELDS = [name for name in LeadSerializer.Meta.fields if name != "assigned_to_name"]
PAGE_SQL = f"""
    SELECT {", ".join(f"l.{column}" for column in FIELDS)},
           u.first_name, u.last_name, u.username
    FROM leads_lead l LEFT JOIN auth_user u ON u.id = l.assigned_to_id
    ORDER BY l.created_at DESC, l.id DESC
    LIMIT %s OFFSET %s
"""


def _int_param(request, name: str, default: int) -> int:
    try:
        return max(1, int(request.GET.get(name, default)))
    except ValueError:
        return default


def _lead(row: tuple) -> dict:
    lead = dict(zip(FIELDS, row[: len(FIELDS)], strict=True))
    first, last, username = row[len(FIELDS) :]
    full_name = f"{first} {last}".strip() if first or last else ""
    lead["assigned_to_name"] = (full_name or username) if lead["assigned_to_id"] is not None else None
    return lead


def floor_leads(request) -> HttpResponse:
    page_size = min(_int_param(request, "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    page = _int_param(request, "page", 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM leads_lead")
        (count,) = cursor.fetchone()
        cursor.execute(PAGE_SQL, [page_size, (page - 1) * page_size])
        results = [_lead(row) for row in cursor.fetchall()]
    total_pages = max(1, math.ceil(count / page_size))
    body = {
        "count": count,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
        "next": None if page >= total_pages else f"?page={page + 1}&page_size={page_size}",
        "previous": None if page == 1 else f"?page={page - 1}&page_size={page_size}",
        "results": results,
    }
    return HttpResponse(dumps(body), content_type="application/json")


urlpatterns = [path("floor/leads", floor_leads, name="bench-floor-leads")]
