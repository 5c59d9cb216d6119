"""Query parameters of the communication lists: type, direction, links, representative, dates, search."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from crm_project.core.api.filters import (
    DateFromFilter,
    DateToFilter,
    NamedChoiceFilter,
    StrictBooleanFilter,
    UserIdFilter,
    UUIDFilter,
)

from .models import Communication, CommunicationDirection, CommunicationType


class CommunicationFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the subject or the content.")
    type = NamedChoiceFilter(choices=CommunicationType.choices)
    direction = NamedChoiceFilter(choices=CommunicationDirection.choices)
    customer_id = UUIDFilter(field_name="customer_id")
    lead_id = UUIDFilter(field_name="lead_id")
    opportunity_id = UUIDFilter(field_name="opportunity_id")
    representative_id = UserIdFilter(
        field_name="our_representative_id", help_text="Communications of this representative (a user id)."
    )
    requires_follow_up = StrictBooleanFilter()
    date_after = DateFromFilter(
        field_name="communication_date", help_text="Communications on or after this date or timestamp."
    )
    date_before = DateToFilter(
        field_name="communication_date", help_text="Communications on or before this date (the whole day) or timestamp."
    )

    class Meta:
        model = Communication
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(subject__icontains=value) | Q(content__icontains=value))


class PendingFollowUpFilterSet(django_filters.FilterSet):
    representative_id = UserIdFilter(
        field_name="our_representative_id", help_text="Follow-ups of this representative (a user id)."
    )
    due_before = DateToFilter(
        field_name="follow_up_date", help_text="Follow-ups due on or before this date (the whole day) or timestamp."
    )

    class Meta:
        model = Communication
        fields: list[str] = []
