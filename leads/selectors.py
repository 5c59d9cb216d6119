"""Reads of leads: the visibility rule, lists, follow-ups and analytics."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm_project.core.roles import has_crm_role, is_manager

from .models import Lead


def lead_visibility_q(user) -> Q:
    """
    The one rule for which leads a user may see (and act on): managers and superusers
    all of them, a sales rep those assigned to them or to nobody, anyone else none.
    """
    if is_manager(user):
        return Q()
    if has_crm_role(user):
        return Q(assigned_to=user) | Q(assigned_to__isnull=True)
    return Q(pk__in=[])


def lead_list_visible_to(user) -> QuerySet[Lead]:
    return Lead.objects.filter(lead_visibility_q(user)).select_related("assigned_to")
