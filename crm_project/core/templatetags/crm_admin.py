"""
``{% crm_date_hierarchy cl %}``: Django's date drill-down without its full-table scans.

Django lists the years (and a year's months) that have rows with ``SELECT DISTINCT
DATE_TRUNC(...)`` over every row of the list: on a table of millions that is the slowest
query of the page, on every load. Here the years, and a year's months, are those between the
first and the last row (``MIN``/``MAX``, answered from the date's index), so a period without
rows may be offered; days, within one month, are still listed from the rows.
"""

from __future__ import annotations

import copy
import datetime as dt

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.db.models import Max, Min
from django.utils import timezone

register = template.Library()


class _PeriodsFromBounds:
    """A changelist queryset whose year and month lists come from its first and last row."""

    def __init__(self, queryset):
        self._queryset = queryset
        self._bounds: dict | None = None

    def __getattr__(self, name):
        return getattr(self._queryset, name)

    def aggregate(self, *args, **kwargs):
        result = self._queryset.aggregate(*args, **kwargs)
        if set(result) == {"first", "last"}:
            self._bounds = result  # Django's own first/last query: reused below.
        return result

    def _first_and_last(self, field_name: str):
        if self._bounds is None:
            self._bounds = self._queryset.aggregate(first=Min(field_name), last=Max(field_name))
        first, last = self._bounds["first"], self._bounds["last"]
        if first is None or last is None:
            return None, None
        if isinstance(first, dt.datetime) and timezone.is_aware(first):
            first, last = timezone.localtime(first), timezone.localtime(last)
        return first, last

    def _periods(self, field_name: str, kind: str, rows_method):
        if kind not in ("year", "month"):
            return rows_method(field_name, kind)
        first, last = self._first_and_last(field_name)
        if first is None:
            return []
        if kind == "year":
            return [dt.date(year, 1, 1) for year in range(first.year, last.year + 1)]
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        return [dt.date(index // 12, index % 12 + 1, 1) for index in months]

    def datetimes(self, field_name, kind, *args, **kwargs):
        return self._periods(field_name, kind, lambda f, k: self._queryset.datetimes(f, k, *args, **kwargs))

    def dates(self, field_name, kind, *args, **kwargs):
        return self._periods(field_name, kind, lambda f, k: self._queryset.dates(f, k, *args, **kwargs))


def crm_date_hierarchy(cl):
    bounded = copy.copy(cl)
    bounded.queryset = _PeriodsFromBounds(cl.queryset)
    return date_hierarchy(bounded)


@register.tag(name="crm_date_hierarchy")
def crm_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=crm_date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )
