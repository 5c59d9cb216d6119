"""Reads of customers: what a user may see, with the joins a list needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from crm_project.core.duplicates import duplicate_candidates
from crm_project.core.matching import MatchProbe
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


def customer_duplicates(user, *, probe: MatchProbe, exclude_pk=None) -> list[dict[str, Any]]:
    """
    The customers ``user`` may see that are likely the customer ``probe`` describes (a saved
    one: ``MatchProbe.of_record``; one about to be created: ``MatchProbe.of``), best first,
    scored and explained (``crm_project/core/duplicates.py``), without ``exclude_pk``.
    """
    return duplicate_candidates(
        customer_list_visible_to(user), probe, number_field="customer_code", exclude_pk=exclude_pk
    )
