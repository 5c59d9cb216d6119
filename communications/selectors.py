"""Reads of communications: the visibility rule, histories, pending follow-ups, engagement."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm_project.core.roles import has_crm_role, is_manager
from leads.models import Lead
from opportunities.models import Opportunity

from .models import Communication


def communication_visibility_q(user) -> Q:
    """
    The one rule for which communications a user may see (and act on): managers and
    superusers all of them; a sales rep those they are the representative on, or that
    concern a lead assigned to them or an opportunity they own; anyone else none.
    """
    if is_manager(user):
        return Q()
    if has_crm_role(user):
        # Subqueries rather than joins: each arm is served by its own index.
        return (
            Q(our_representative=user)
            | Q(lead_id__in=Lead.objects.filter(assigned_to=user).values("id"))
            | Q(opportunity_id__in=Opportunity.objects.filter(owner=user).values("id"))
        )
    return Q(pk__in=[])


def communication_list_visible_to(user) -> QuerySet[Communication]:
    return Communication.objects.filter(communication_visibility_q(user))
