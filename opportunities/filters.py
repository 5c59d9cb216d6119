"""Query parameters of the opportunity list: stage, owner, links, closed or not, value and close-date ranges, search."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from crm_project.core.api.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm_project.core.api.filters import (
    DateFromFilter,
    DateToFilter,
    NamedChoiceFilter,
    StrictBooleanFilter,
    UserIdFilter,
    UUIDFilter,
)
from crm_project.core.dates import check_range

from .models import CLOSED_STAGES, Opportunity, OpportunityStage


class OpportunityFilterForm(forms.Form):
    """Bounds that contradict each other are a client error, not an empty list."""

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_value"), cleaned.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", "max_value must be greater than or equal to min_value.")
        check_range(
            cleaned.get("close_after"), cleaned.get("close_before"), start_name="close_after", end_name="close_before"
        )
        return cleaned


def _money_filter(lookup: str, help_text: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        field_name="estimated_value",
        lookup_expr=lookup,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text=help_text,
    )


class OpportunityFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Part of the name, opportunity number, description or customer company name (any case).",
    )
    stage = NamedChoiceFilter(choices=OpportunityStage.choices)
    owner_id = UserIdFilter(field_name="owner_id", help_text="Only this user's opportunities.")
    customer_id = UUIDFilter(field_name="customer_id")
    lead_id = UUIDFilter(field_name="lead_id")
    is_closed = StrictBooleanFilter(method="filter_is_closed", help_text="Closed (won or lost) or still open.")
    min_value = _money_filter("gte", "Estimated value at least this (inclusive).")
    max_value = _money_filter("lte", "Estimated value at most this (inclusive).")
    close_after = DateFromFilter(
        field_name="expected_close_date", help_text="Expected close on or after this date or instant."
    )
    close_before = DateToFilter(
        field_name="expected_close_date", help_text="Expected close on or before this date (the whole day) or instant."
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []
        form = OpportunityFilterForm

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(opportunity_number__icontains=value)
            | Q(description__icontains=value)
            | Q(customer__company_name__icontains=value)
        )

    def filter_is_closed(self, queryset, name, value):
        closed = Q(stage__in=CLOSED_STAGES)
        return queryset.filter(closed if value else ~closed)
