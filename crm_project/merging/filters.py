"""Query parameters of ``/api/v1/crm/merges``."""

import django_filters

from crm_project.core.api.filters import NamedChoiceFilter, StrictBooleanFilter, UUIDFilter

from .models import Merge, MergeKind


class MergeFilterSet(django_filters.FilterSet):
    kind = NamedChoiceFilter(choices=MergeKind.choices)
    survivor_id = UUIDFilter(field_name="survivor_id", help_text="Merges into this record.")
    undone = StrictBooleanFilter(
        method="filter_undone", help_text="Only merges undone (true) or still in force (false)."
    )

    class Meta:
        model = Merge
        fields: list[str] = []

    def filter_undone(self, queryset, name, value):
        return queryset.filter(undone_at__isnull=not value)
