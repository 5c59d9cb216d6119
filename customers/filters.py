"""Query parameters of the customer list: search, state, ratings, segment, account manager, dormancy."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from crm_project.core.api.filters import (
    DateOrDateTimeFilter,
    NamedChoiceFilter,
    StrictBooleanFilter,
    UserIdFilter,
    UUIDFilter,
)
from crm_project.core.dates import start_of

from .models import CreditRating, Customer, OrderFrequency


class CustomerFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the company name, contact person, email or customer code."
    )
    is_active = StrictBooleanFilter()
    credit_rating = NamedChoiceFilter(choices=CreditRating.choices)
    order_frequency = NamedChoiceFilter(choices=OrderFrequency.choices)
    segment_id = UUIDFilter(method="filter_segment", help_text="Only customers in this segment.")
    account_manager_id = UserIdFilter(field_name="account_manager_id")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    not_contacted_since = DateOrDateTimeFilter(
        method="filter_not_contacted_since",
        help_text="Customers with no communication on or after this date (dormant accounts).",
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(company_name__icontains=value)
            | Q(contact_person__icontains=value)
            | Q(email__icontains=value)
            | Q(customer_code__icontains=value)
        )

    def filter_segment(self, queryset, name, value):
        # Through the relation the segments app declares (no import of a higher domain). A
        # customer is in a segment at most once (a unique membership), so the join repeats no row.
        return queryset.filter(segment_memberships__segment_id=value)

    def filter_not_contacted_since(self, queryset, name, value):
        return queryset.filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=start_of(value)))
