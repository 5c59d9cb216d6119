"""Query parameters of the lead list: status, source, priority, assignee, qualified, dates, search."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from crm_project.core.api.filters import (
    DateFromFilter,
    DateToFilter,
    NamedChoiceFilter,
    StrictBooleanFilter,
    UserIdFilter,
)

from .models import Lead, LeadPriority, LeadSource, LeadStatus


class LeadFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the company name, contact person, email or lead number."
    )
    status = NamedChoiceFilter(choices=LeadStatus.choices)
    source = NamedChoiceFilter(choices=LeadSource.choices)
    priority = NamedChoiceFilter(choices=LeadPriority.choices)
    assigned_to_id = UserIdFilter(field_name="assigned_to_id", help_text="Leads assigned to this user.")
    is_qualified = StrictBooleanFilter(field_name="is_qualified")
    created_after = DateFromFilter(field_name="created_at", help_text="Created on or after this date or instant.")
    created_before = DateToFilter(field_name="created_at", help_text="Created on or before this date (inclusive).")

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Each arm is served by a trigram index on UPPER(column) on PostgreSQL.
        return queryset.filter(
            Q(company_name__icontains=value)
            | Q(contact_person__icontains=value)
            | Q(email__icontains=value)
            | Q(lead_number__icontains=value)
        )
