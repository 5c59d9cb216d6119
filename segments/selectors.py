"""Reads of segments: visibility, members, criteria matches, performance and count drift."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db.models import Count, DecimalField, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from communications.models import Communication
from communications.selectors import communication_visibility_q
from crm_project.core.dates import end_exclusive_of, start_of
from crm_project.core.roles import has_crm_role
from customers.models import Customer
from customers.selectors import customer_list_visible_to
from opportunities.models import OPEN_STAGES, Opportunity, OpportunityStage
from opportunities.selectors import opportunity_visibility_q

from .criteria import criteria_filter
from .models import Segment, SegmentMembership


def segment_list_visible_to(user) -> QuerySet[Segment]:
    """Every CRM role reads every segment (only managers change them); no role sees none."""
    if not has_crm_role(user):
        return Segment.objects.none()
    return Segment.objects.all()


def _member_ids(segment: Segment) -> QuerySet:
    return SegmentMembership.objects.filter(segment_id=segment.pk).values("customer_id")


def segment_members(*, segment: Segment, user) -> QuerySet[Customer]:
    """The customers in the segment, as the customer list shows them (newest first)."""
    return customer_list_visible_to(user).filter(pk__in=_member_ids(segment))


class CriteriaMatches(NamedTuple):
    customers: QuerySet[Customer]
    unrecognized_criteria: list[str]


def segment_matching_customers(*, segment: Segment, user) -> CriteriaMatches:
    """The customers that meet the segment's criteria (``criteria.py``), members or not."""
    compiled = criteria_filter(segment.criteria)
    return CriteriaMatches(customer_list_visible_to(user).filter(compiled.condition), compiled.unrecognized)


# --- performance ------------------------------------------------------------------------------

# Room for sums over many customers (one value holds 14 digits).
_MONEY = DecimalField(max_digits=20, decimal_places=2)
_ZERO = Value(Decimal("0.00"), output_field=_MONEY)


def _money_sum(field: str, condition: Q) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), _ZERO, output_field=_MONEY)


def _in_range(field: str, start: dt.date | dt.datetime | None, end: dt.date | dt.datetime | None) -> Q:
    condition = Q()
    if start is not None:
        condition &= Q(**{f"{field}__gte": start_of(start)})
    if end is not None:
        condition &= Q(**{f"{field}__lt": end_exclusive_of(end)})
    return condition


def _percentage(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _opportunity_aggregates(start_date, end_date) -> tuple[Q, dict[str, Any]]:
    """
    Which opportunities a segment's figures count (open ones whatever their dates, won and
    lost ones closed within the range) and their aggregates: the one place they are defined.
    """
    is_open = Q(stage__in=OPEN_STAGES)
    closed_in_range = _in_range("actual_close_date", start_date, end_date)
    is_won = Q(stage=OpportunityStage.CLOSED_WON) & closed_in_range
    is_lost = Q(stage=OpportunityStage.CLOSED_LOST) & closed_in_range
    return is_open | is_won | is_lost, {
        "open_count": Count("pk", filter=is_open),
        "open_value": _money_sum("estimated_value", is_open),
        "weighted_value": _money_sum("expected_revenue", is_open),
        "won_count": Count("pk", filter=is_won),
        "won_value": _money_sum("estimated_value", is_won),
        "lost_count": Count("pk", filter=is_lost),
    }


def _with_win_rate(figures: dict[str, Any]) -> dict[str, Any]:
    figures["win_rate"] = _percentage(figures["won_count"], figures["won_count"] + figures["lost_count"])
    return figures


def segment_performance(
    *,
    segment: Segment,
    user,
    start_date: dt.date | dt.datetime | None = None,
    end_date: dt.date | dt.datetime | None = None,
) -> dict[str, Any]:
    """
    How the segment's current customers are doing, in three queries whatever their number:

    - the customers themselves (every role reads every customer);
    - their opportunities the user may see: open ones whatever their dates, won and lost ones
      closed (``actual_close_date``) within the range; win rate = won ÷ (won + lost) × 100;
    - their communications the user may see, dated (``communication_date``) within the range,
      and the latest of those.

    Dates are inclusive: a date bound covers its whole day in ``TIME_ZONE``.
    """
    members = _member_ids(segment)
    customers = Customer.objects.filter(pk__in=members).aggregate(
        customer_count=Count("pk"),
        active_customers=Count("pk", filter=Q(is_active=True)),
        total_annual_spend=_money_sum("annual_spend", Q()),
    )

    counted, aggregates = _opportunity_aggregates(start_date, end_date)
    opportunities = _with_win_rate(
        Opportunity.objects.filter(opportunity_visibility_q(user), customer_id__in=members)
        .filter(counted)
        .aggregate(**aggregates)
    )

    communications = Communication.objects.filter(
        communication_visibility_q(user),
        _in_range("communication_date", start_date, end_date),
        customer_id__in=members,
    ).aggregate(communications_count=Count("pk"), last_communication_at=Max("communication_date"))

    return {"segment_id": segment.pk, **customers, "opportunities": opportunities, **communications}


def segments_opportunity_figures(
    *,
    segment_ids,
    user,
    start_date: dt.date | dt.datetime | None = None,
    end_date: dt.date | dt.datetime | None = None,
) -> dict[Any, dict[str, Any]]:
    """
    ``segment_performance``'s ``opportunities`` figures for many segments in one grouped query
    (an opportunity counts in every segment its customer is in): ``{segment_id: figures}``,
    zeros for a segment without opportunities.
    """
    segment_ids = list(segment_ids)
    counted, aggregates = _opportunity_aggregates(start_date, end_date)
    rows = (
        Opportunity.objects.filter(
            opportunity_visibility_q(user), counted, customer__segment_memberships__segment_id__in=segment_ids
        )
        .values(segment_id=F("customer__segment_memberships__segment_id"))
        .annotate(**aggregates)
        .order_by()
    )
    found = {row.pop("segment_id"): _with_win_rate(row) for row in rows}
    empty = Opportunity.objects.none().aggregate(**aggregates)  # Zeros, without a query.
    return {pk: found.get(pk) or _with_win_rate(dict(empty)) for pk in segment_ids}


# --- the count cache --------------------------------------------------------------------------


class CountDrift(NamedTuple):
    segment: Segment
    true_count: int


def segment_count_drift() -> list[CountDrift]:
    """Segments whose stored ``customer_count`` differs from their membership rows (one query)."""
    true_count = Coalesce(
        Subquery(
            SegmentMembership.objects.filter(segment_id=OuterRef("pk"))
            .order_by()
            .values("segment_id")
            .annotate(rows=Count("pk"))
            .values("rows"),
            output_field=IntegerField(),
        ),
        0,
    )
    drifted = Segment.objects.annotate(true_count=true_count).exclude(customer_count=F("true_count")).order_by("code")
    return [CountDrift(segment, segment.true_count) for segment in drifted]
