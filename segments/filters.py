"""Query parameters of the segment list: active or not, search."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from crm_project.core.api.filters import StrictBooleanFilter

from .models import Segment


class SegmentFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the segment's name, code or description (any case)."
    )
    is_active = StrictBooleanFilter()

    class Meta:
        model = Segment
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(description__icontains=value))
