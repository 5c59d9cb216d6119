"""Query parameters of ``/api/v1/crm/merges``."""

import django_filters

from .models import Merge, MergeKind


class MergeFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MergeKind.choices)
    survivor_id = django_filters.UUIDFilter(field_name="survivor_id")
    undone = django_filters.BooleanFilter(field_name="undone_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Merge
        fields = ["kind", "survivor_id", "undone"]
