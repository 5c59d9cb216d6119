"""The page shape of every list: count, page, page_size, total_pages, next, previous, results."""

from __future__ import annotations

import math

from django.core.paginator import Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["A positive integer is required."]}) from None
    if value < 1:
        raise ValidationError({name: ["A positive integer is required."]})
    return value


class FullLimitPaginator(Paginator):
    """
    Django's paginator, with two savings that leave every answer the same:

    - The first page is read before the count, and when it is not full its length is the
      count: a search or filter that matches a few rows costs one query, not two.
    - The database is always asked for a whole page (``LIMIT page_size``). Django cuts the
      last page's LIMIT down to the rows the count found, so a search matching one lead
      asks for ``LIMIT 1``; PostgreSQL then expects to meet a match early and walks the
      whole ``created_at`` index filtering every row (1.4 s at a million leads) instead of
      collecting the few matches from the search indexes and sorting them.
    """

    def page(self, number):
        if number == 1:
            rows = list(self.object_list[: self.per_page])
            if len(rows) < self.per_page:
                self.count = len(rows)  # Otherwise counted when first needed.
            return self._get_page(rows, 1, self)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


class CRMPageNumberPagination(PageNumberPagination):
    django_paginator_class = FullLimitPaginator
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        requested = _positive_int(request, self.page_size_query_param)
        # A larger page_size than allowed is clamped, not refused: a client asking for much gets the most.
        return min(requested or self.page_size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        page_number = _positive_int(request, self.page_query_param) or 1
        paginator = self.django_paginator_class(queryset, page_size)
        if page_number > 1 and page_number > paginator.num_pages:
            raise NotFound(f"Page {page_number} is past the last page ({paginator.num_pages}).")
        self.page = paginator.page(page_number)
        return list(self.page)

    def get_paginated_response(self, data) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "page": self.page.number,
                "page_size": paginator.per_page,
                "total_pages": max(1, math.ceil(paginator.count / paginator.per_page)),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "page", "page_size", "total_pages", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "page": {"type": "integer", "example": 1},
                "page_size": {"type": "integer", "example": DEFAULT_PAGE_SIZE},
                "total_pages": {"type": "integer", "example": 3},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the end is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {DEFAULT_PAGE_SIZE}; above {MAX_PAGE_SIZE} is clamped).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
