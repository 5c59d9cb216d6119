"""Reads of customers: what a user may see, with the joins a list needs."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from crm_project.core.roles import has_crm_role

from .models import Customer


def customer_list_visible_to(user) -> QuerySet[Customer]:
    """
    Every CRM role reads every customer (a rep needs any customer to log a call about); users without
    a role see none. Joined for the list: the account manager and the segment ids.
    """
    queryset = Customer.objects.select_related("account_manager").prefetch_related(
        Prefetch("segment_memberships", to_attr="prefetched_memberships")
    )
    if not has_crm_role(user):
        return queryset.none()
    return queryset
