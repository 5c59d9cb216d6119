"""Reads of leads: the visibility rule, lists, follow-ups and analytics."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm_project.core.dates import check_range, end_exclusive_of, start_of
from crm_project.core.duplicates import duplicate_candidates
from crm_project.core.matching import MatchProbe
from crm_project.core.roles import crm_users, has_crm_role, is_manager

from .models import OPEN_STATUSES, Lead, LeadSource, LeadStatus

TWO_PLACES = Decimal("0.01")
MICROSECONDS_PER_DAY = Decimal(86_400 * 1_000_000)


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


def lead_duplicates(user, *, probe: MatchProbe, exclude_pk=None) -> list[dict[str, Any]]:
    """
    The leads ``user`` may see that are likely the lead ``probe`` describes (a saved one:
    ``MatchProbe.of_record``; one about to be created: ``MatchProbe.of``), best first, scored
    and explained (``crm_project/core/duplicates.py``), without ``exclude_pk``.
    """
    return duplicate_candidates(lead_list_visible_to(user), probe, number_field="lead_number", exclude_pk=exclude_pk)


def lead_follow_ups_due_today(
    user, *, include_overdue: bool = False, assigned_to_id: int | None = None, day: dt.date | None = None
) -> QuerySet[Lead]:
    """
    Open leads (not converted or lost) whose ``next_follow_up_date`` falls today in
    TIME_ZONE (or on ``day``: the follow-up digest), and with ``include_overdue`` also those
    whose date has passed; soonest first.
    """
    today = day or timezone.localdate()
    # Sorted so the filter reads the same as the partial index's predicate.
    leads = lead_list_visible_to(user).filter(
        status__in=sorted(OPEN_STATUSES), next_follow_up_date__lt=start_of(today + dt.timedelta(days=1))
    )
    if not include_overdue:
        leads = leads.filter(next_follow_up_date__gte=start_of(today))
    if assigned_to_id is not None:
        leads = leads.filter(assigned_to_id=assigned_to_id)
    return leads.order_by("next_follow_up_date", "pk")


def _rounded(value: Decimal) -> float:
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def lead_analytics_summary(
    user, *, start: dt.date | dt.datetime | None = None, end: dt.date | dt.datetime | None = None
) -> dict[str, Any]:
    """
    Counts by status and source, the conversion rate and the average time to convert, over
    the leads ``user`` may see created between ``start`` and ``end`` (inclusive; a date
    covers its whole day in TIME_ZONE). One grouped query, whatever the number of leads.
    """
    check_range(start, end)
    leads = Lead.objects.filter(lead_visibility_q(user))
    if start is not None:
        leads = leads.filter(created_at__gte=start_of(start))
    if end is not None:
        leads = leads.filter(created_at__lt=end_exclusive_of(end))

    # One grouped query over COUNT(*) and the columns of lead_analytics_idx only, grouped in
    # the index's order, so that PostgreSQL reads the index alone and aggregates as it goes.
    groups = (
        leads.values("assigned_to_id", "status", "source")
        .annotate(
            count=Count("*"),
            dated_conversions=Count("converted_at"),
            time_to_convert=Sum(ExpressionWrapper(F("converted_at") - F("created_at"), output_field=DurationField())),
        )
        .order_by()
    )
    by_status = dict.fromkeys(LeadStatus.values, 0)
    by_source = dict.fromkeys(LeadSource.values, 0)
    conversions, time_to_convert = 0, dt.timedelta(0)
    for group in groups:
        by_status[group["status"]] += group["count"]
        by_source[group["source"]] += group["count"]
        if group["status"] == LeadStatus.CONVERTED and group["dated_conversions"]:
            conversions += group["dated_conversions"]
            time_to_convert += group["time_to_convert"]

    total = sum(by_status.values())
    converted_count = by_status[LeadStatus.CONVERTED]
    average = time_to_convert / conversions if conversions else None
    return {
        "total_leads": total,
        "by_status": by_status,
        "by_source": by_source,
        "conversion_rate": _rounded(Decimal(converted_count * 100) / total) if total else 0,
        "average_time_to_convert_days": (
            _rounded(Decimal(average // dt.timedelta(microseconds=1)) / MICROSECONDS_PER_DAY)
            if average is not None
            else None
        ),
    }


def lead_assignable_users(user) -> QuerySet:
    """
    The users ``user`` may pick as a lead's assignee (the admin's choices): for a manager,
    the active sales staff; for a rep, themselves, as ``lead_create``/``lead_update`` enforce.
    """
    User = get_user_model()
    if is_manager(user):
        return crm_users()
    if has_crm_role(user):
        return User.objects.filter(pk=user.pk)
    return User.objects.none()


def lead_cohorts(user, *, start: dt.date | dt.datetime | None = None, end: dt.date | dt.datetime | None = None):
    """
    The leads ``user`` may see, by month of creation (in TIME_ZONE; ``start``/``end`` bound
    ``created_at``, inclusive), oldest first: ``created``, and how many ever reached each step,
    read from the lead's fields (the history is not replayed):

    - converted: its status is converted (a converted lead counts in all three steps);
    - qualified: converted, qualified now, or qualified once and lost since (``qualified_at`` is
      kept); a lead moved back from qualified to new or contacted has it cleared and is not counted;
    - contacted: qualified, contacted now, or with a communication logged (``last_contacted_at``);

    and ``median_days_to_convert`` (creation to ``converted_at``, null without conversions). Two
    queries: the counts grouped by month, and the conversion times.
    """
    check_range(start, end)
    leads = Lead.objects.filter(lead_visibility_q(user))
    if start is not None:
        leads = leads.filter(created_at__gte=start_of(start))
    if end is not None:
        leads = leads.filter(created_at__lt=end_exclusive_of(end))
    converted = Q(status=LeadStatus.CONVERTED)
    qualified = converted | Q(status=LeadStatus.QUALIFIED) | Q(qualified_at__isnull=False)
    contacted = qualified | Q(status=LeadStatus.CONTACTED) | Q(last_contacted_at__isnull=False)
    leads = leads.annotate(cohort=TruncMonth("created_at"))
    groups = (
        leads.values("cohort")
        .annotate(
            created=Count("*"),
            contacted=Count("pk", filter=contacted),
            qualified=Count("pk", filter=qualified),
            converted=Count("pk", filter=converted),
        )
        .order_by("cohort")
    )
    times: dict[dt.date, list[dt.timedelta]] = {}
    conversions = leads.filter(converted, converted_at__isnull=False).values_list(
        "cohort", "created_at", "converted_at"
    )
    for cohort, created_at, converted_at in conversions.order_by():
        times.setdefault(_month_of(cohort), []).append(converted_at - created_at)
    rows = []
    for group in groups:
        month = _month_of(group["cohort"])
        durations = sorted(times.get(month, []))
        rows.append(
            {
                "cohort": f"{month:%Y-%m}",
                **{name: group[name] for name in ("created", "contacted", "qualified", "converted")},
                "median_days_to_convert": _median_days(durations),
            }
        )
    return rows


def _month_of(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def _median_days(durations: list[dt.timedelta]) -> float | None:
    """The median of sorted ``durations`` in days, 2 decimals; None when there are none."""
    if not durations:
        return None
    middle = len(durations) // 2
    median = durations[middle] if len(durations) % 2 else (durations[middle - 1] + durations[middle]) / 2
    return _rounded(Decimal(median // dt.timedelta(microseconds=1)) / MICROSECONDS_PER_DAY)
