"""Query parameters of the lead list (contract: "Leads")."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm_project.core.api.filters import (
    DateFromFilter,
    DateOrDateTimeField,
    DateToFilter,
    StrictBooleanFilter,
    end_exclusive_of,
    start_of,
)

from .models import Lead, LeadPriority, LeadSource, LeadStatus


def is_representable_bound(value: dt.date | dt.datetime) -> bool:
    """Whether a date or timestamp bound can become instants in UTC (9999-12-31 has no day after)."""
    try:
        start_of(value).astimezone(dt.UTC)
        end_exclusive_of(value).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return False
    return True


class BoundDateOrDateTimeField(DateOrDateTimeField):
    """A date or timestamp bound, refused with a 400 (not a crash) at the edges of the calendar."""

    default_error_messages = {"out_of_range": "The date is outside the supported range."}

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and not is_representable_bound(parsed):
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return parsed


class BoundDateFromFilter(DateFromFilter):
    field_class = BoundDateOrDateTimeField


class BoundDateToFilter(DateToFilter):
    field_class = BoundDateOrDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class UserIdFilter(django_filters.NumberFilter):
    """A user id: a whole number (``1.5`` is a 400, not a silent match on user 1)."""

    field_class = forms.IntegerField


class LeadFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the company name, contact person, email or lead number."
    )
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.ChoiceFilter(choices=LeadSource.choices)
    priority = django_filters.ChoiceFilter(choices=LeadPriority.choices)
    assigned_to_id = UserIdFilter(field_name="assigned_to_id", help_text="Leads assigned to this user.")
    is_qualified = StrictBooleanFilter(field_name="is_qualified")
    created_after = BoundDateFromFilter(field_name="created_at", help_text="Created on or after this date or instant.")
    created_before = BoundDateToFilter(field_name="created_at", help_text="Created on or before this date (inclusive).")

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
