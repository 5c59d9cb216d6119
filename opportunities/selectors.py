"""Reads of opportunities: the visibility rule, lists, history and pipeline statistics."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm_project.core.roles import has_crm_role, is_manager

from .models import Opportunity


def opportunity_visibility_q(user) -> Q:
    """
    The one rule for which opportunities a user may see (and act on): managers and
    superusers all of them, a sales rep those they own, anyone else none.
    """
    if is_manager(user):
        return Q()
    if has_crm_role(user):
        return Q(owner=user)
    return Q(pk__in=[])


def opportunity_list_visible_to(user) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(opportunity_visibility_q(user)).select_related("customer", "owner")
