"""Reads of communications: the visibility rule, histories, pending follow-ups, engagement."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm_project.core.dates import end_exclusive_of, start_of
from crm_project.core.roles import has_crm_role, is_manager
from leads.models import Lead
from opportunities.models import Opportunity

from .models import Communication, CommunicationDirection, CommunicationType


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
    """What ``user`` may see, joined with what a list shows (customer name, representative)."""
    return Communication.objects.filter(communication_visibility_q(user)).select_related(
        "customer", "our_representative"
    )


def communication_history(user, *, customer_id=None, lead_id=None, opportunity_id=None) -> QuerySet[Communication]:
    """
    One record's communications that ``user`` may see, newest first. The caller has
    checked that the record itself exists and is visible to the user.
    """
    links = {"customer_id": customer_id, "lead_id": lead_id, "opportunity_id": opportunity_id}
    return (
        communication_list_visible_to(user)
        .filter(**{name: value for name, value in links.items() if value is not None})
        .order_by("-communication_date", "-id")
    )


PENDING_FOLLOW_UP = Q(requires_follow_up=True, follow_up_completed=False)


def pending_follow_ups(
    user, *, due_on_or_before: dt.date | None = None, representative_id: int | None = None
) -> QuerySet[Communication]:
    """
    Follow-ups required and not completed, oldest due first (served by a partial index);
    optionally only those due by the end of ``due_on_or_before`` (in TIME_ZONE) and one
    representative's (the follow-up digest).
    """
    follow_ups = communication_list_visible_to(user).filter(PENDING_FOLLOW_UP)
    if due_on_or_before is not None:
        follow_ups = follow_ups.filter(follow_up_date__lt=end_exclusive_of(due_on_or_before))
    if representative_id is not None:
        follow_ups = follow_ups.filter(our_representative_id=representative_id)
    return follow_ups.order_by("follow_up_date", "id")


def _percentage(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _representative_name(row: dict) -> str | None:
    if row["our_representative_id"] is None:
        return None
    full_name = f"{row['our_representative__first_name']} {row['our_representative__last_name']}".strip()
    return full_name or row["our_representative__username"]


def engagement_summary(
    *,
    user,
    start_date: dt.date | dt.datetime | None = None,
    end_date: dt.date | dt.datetime | None = None,
    representative_id: int | None = None,
    customer_id=None,
) -> dict[str, Any]:
    """
    Engagement figures over the communications ``user`` may see, dated (``communication_date``)
    from ``start_date`` to ``end_date`` inclusive (a date bound covers its whole day).

    Two queries whatever the number of communications: one row of conditional aggregates,
    and one row per representative. ``average_duration_minutes`` is over communications
    that have a duration, ``None`` when none has; rates are percentages with 2 decimals,
    0 when there is nothing to divide.
    """
    queryset = Communication.objects.filter(communication_visibility_q(user))
    if start_date is not None:
        queryset = queryset.filter(communication_date__gte=start_of(start_date))
    if end_date is not None:
        queryset = queryset.filter(communication_date__lt=end_exclusive_of(end_date))
    if representative_id is not None:
        queryset = queryset.filter(our_representative_id=representative_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)

    figures = queryset.aggregate(
        total=Count("id"),
        **{f"type_{kind}": Count("id", filter=Q(type=kind)) for kind in CommunicationType.values},
        **{f"direction_{way}": Count("id", filter=Q(direction=way)) for way in CommunicationDirection.values},
        average_duration=Avg("duration_minutes"),
        customers_contacted=Count("customer_id", distinct=True),
        follow_ups_required=Count("id", filter=Q(requires_follow_up=True)),
        follow_ups_completed=Count("id", filter=Q(requires_follow_up=True, follow_up_completed=True)),
        follow_ups_overdue=Count("id", filter=PENDING_FOLLOW_UP & Q(follow_up_date__lt=timezone.now())),
    )
    by_representative = (
        queryset.values(
            "our_representative_id",
            "our_representative__username",
            "our_representative__first_name",
            "our_representative__last_name",
        )
        .annotate(count=Count("id"), total_duration_minutes=Coalesce(Sum("duration_minutes"), 0))
        .order_by("-count", "our_representative_id")
    )
    average = figures["average_duration"]
    return {
        "total": figures["total"],
        "by_type": {kind: figures[f"type_{kind}"] for kind in CommunicationType.values},
        "by_direction": {way: figures[f"direction_{way}"] for way in CommunicationDirection.values},
        "by_representative": [
            {
                "representative_id": row["our_representative_id"],
                "name": _representative_name(row),
                "count": row["count"],
                "total_duration_minutes": row["total_duration_minutes"],
            }
            for row in by_representative
        ],
        "average_duration_minutes": (
            None if average is None else Decimal(str(average)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        ),
        "customers_contacted": figures["customers_contacted"],
        "follow_ups": {
            "required": figures["follow_ups_required"],
            "completed": figures["follow_ups_completed"],
            "overdue": figures["follow_ups_overdue"],
            "completion_rate": _percentage(figures["follow_ups_completed"], figures["follow_ups_required"]),
        },
        "start_date": start_date,
        "end_date": end_date,
    }
