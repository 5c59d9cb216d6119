"""Query parameters of the communication lists (contract: "Communications")."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import BigIntegerField, Q

from crm_project.core.api.filters import DateFromFilter, DateOrDateTimeField, DateToFilter, StrictBooleanFilter

from .models import Communication, CommunicationDirection, CommunicationType

# The days a bound may name: a bound is moved to UTC and an inclusive date one day on, and
# either step would leave Python's datetime range (a crash, not an answer) on the first and
# last day it can hold.
EARLIEST_BOUND = dt.date(1, 1, 2)
LATEST_BOUND = dt.date(9999, 12, 30)


class BoundedDateOrDateTimeField(DateOrDateTimeField):
    """A date or timestamp query value, refused with a 400 outside the range bounds can use."""

    def to_python(self, value):
        parsed = super().to_python(value)
        day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        if day is not None and not EARLIEST_BOUND <= day <= LATEST_BOUND:
            raise forms.ValidationError(
                f"Enter a date between {EARLIEST_BOUND.isoformat()} and {LATEST_BOUND.isoformat()}.",
                code="out_of_range",
            )
        return parsed


class BoundedDateFromFilter(DateFromFilter):
    field_class = BoundedDateOrDateTimeField


class BoundedDateToFilter(DateToFilter):
    field_class = BoundedDateOrDateTimeField


class UserIdFilter(django_filters.NumberFilter):
    """
    A user id: a whole number within the database's integer range. (A bare ``NumberFilter``
    takes any decimal, and one too large for the column crashes the query on SQLite.)
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BigIntegerField.MAX_BIGINT)
        super().__init__(*args, **kwargs)


class CommunicationFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the subject or the content.")
    type = django_filters.ChoiceFilter(choices=CommunicationType.choices)
    direction = django_filters.ChoiceFilter(choices=CommunicationDirection.choices)
    customer_id = django_filters.UUIDFilter(field_name="customer_id")
    lead_id = django_filters.UUIDFilter(field_name="lead_id")
    opportunity_id = django_filters.UUIDFilter(field_name="opportunity_id")
    representative_id = UserIdFilter(
        field_name="our_representative_id", help_text="Communications of this representative (a user id)."
    )
    requires_follow_up = StrictBooleanFilter()
    date_after = BoundedDateFromFilter(
        field_name="communication_date", help_text="Communications on or after this date or timestamp."
    )
    date_before = BoundedDateToFilter(
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
    due_before = BoundedDateToFilter(
        field_name="follow_up_date", help_text="Follow-ups due on or before this date (the whole day) or timestamp."
    )

    class Meta:
        model = Communication
        fields: list[str] = []
