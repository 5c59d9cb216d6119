"""
The sales dashboard, the admin's front page: what needs doing today and how the pipeline
stands, for the signed-in user.

Every figure comes from the selectors the API answers with (pipeline statistics, the lead
analytics summary, today's follow-ups, pending follow-ups, engagement, segment performance),
called with the user, so a rep's dashboard counts only what that rep may see. This module only
picks, arranges and draws (``charts.py``); it holds no rule of its own. The page takes a fixed
number of queries whatever the size of the tables (aggregates, and lists cut to a few rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from communications.selectors import engagement_summary, pending_follow_ups
from crm_project.core.dates import start_of
from crm_project.core.roles import has_crm_role, is_manager
from crm_project.reporting.charts import BarInput, Ring, bar_chart, compact_number, full_number, funnel_chart
from leads.models import LeadStatus
from leads.selectors import lead_analytics_summary, lead_follow_ups_due_today
from opportunities.models import CLOSED_STAGES, OpportunityStage
from opportunities.selectors import opportunity_pipeline_stats
from opportunities.selectors.forecast import add_months, opportunity_forecast
from opportunities.selectors.velocity import opportunity_velocity
from segments.selectors import segment_list_visible_to, segments_opportunity_figures

FOLLOW_UPS_SHOWN = 8
# The forecast chart: the two months before this one, this one and the three after.
FORECAST_MONTHS_BEFORE, FORECAST_MONTHS_AFTER = 2, 3
VELOCITY_DAYS = 90
REPRESENTATIVES_SHOWN = 10
SEGMENTS_SHOWN = 8

# The funnel, widest first: the statuses a lead moves through, then the ones that left.
FUNNEL = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.CONVERTED, LeadStatus.LOST]


def _changelist(model: str, **params) -> str:
    url = reverse(f"admin:{model}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _change(model: str, pk) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


# --- pipeline ---------------------------------------------------------------------------------


def _pipeline(user) -> dict[str, Any]:
    stats = opportunity_pipeline_stats(user)
    by_stage = stats["by_stage"]
    rows = []
    for stage in OpportunityStage:
        figures = by_stage[stage.value]
        weighted = "" if stage in CLOSED_STAGES else f", weighted {compact_number(figures['weighted_value'])}"
        rows.append(
            BarInput(
                label=stage.label,
                value=figures["total_value"],
                inner=None if stage in CLOSED_STAGES else figures["weighted_value"],
                text=f"{_plural(figures['count'], 'deal')} · {compact_number(figures['total_value'])}{weighted}",
                title=(
                    f"{stage.label}: {_plural(figures['count'], 'opportunity')}, value "
                    f"{full_number(figures['total_value'])}, weighted {full_number(figures['weighted_value'])}"
                ),
                url=_changelist("opportunities_opportunity", stage__exact=stage.value),
                tone={OpportunityStage.CLOSED_WON: "won", OpportunityStage.CLOSED_LOST: "lost"}.get(stage, "primary"),
            )
        )
    won, lost = by_stage[OpportunityStage.CLOSED_WON]["count"], by_stage[OpportunityStage.CLOSED_LOST]["count"]
    return {
        "stats": stats,
        "chart": bar_chart(
            rows,
            summary=(
                f"Opportunities by stage: {stats['open_opportunities']:,} open worth "
                f"{full_number(stats['total_pipeline_value'])}, "
                f"weighted {full_number(stats['weighted_pipeline_value'])}."
            ),
        ),
        "is_empty": stats["total_opportunities"] == 0,
        "win_ring": Ring(percent=stats["win_rate"]),
        "won_count": won,
        "lost_count": lost,
    }


# --- forecast and velocity ---------------------------------------------------------------------


def _forecast(user, today: dt.date) -> dict[str, Any]:
    this_month = today.replace(day=1)
    forecast = opportunity_forecast(
        user,
        period="month",
        start=add_months(this_month, -FORECAST_MONTHS_BEFORE),
        end=add_months(this_month, FORECAST_MONTHS_AFTER),
        snapshots=False,
    )
    rows = []
    for row in forecast["periods"]:
        month = dt.date(int(row["period"][:4]), int(row["period"][5:]), 1)
        quota = row["quota"]
        attainment = f" ({row['attainment']:.0f}%)" if row["attainment"] is not None else ""
        rows.append(
            BarInput(
                label=f"{month:%b %Y}",
                value=row["closed_won"] + row["commit"],
                inner=row["closed_won"],
                marker=quota,
                text=(
                    f"won {compact_number(row['closed_won'])}{attainment} · commit {compact_number(row['commit'])}"
                    + (f" · quota {compact_number(quota)}" if quota is not None else "")
                ),
                title=(
                    f"{month:%B %Y}: won {full_number(row['closed_won'])}, commit {full_number(row['commit'])}, "
                    f"best case {full_number(row['best_case'])}, pipeline {full_number(row['pipeline'])}, quota "
                    + (full_number(quota) if quota is not None else "none")
                ),
            )
        )
    totals = forecast["totals"]
    return {
        "chart": bar_chart(
            rows,
            summary=(
                f"Won and committed against quota by month: won {full_number(totals['closed_won'])}, "
                f"commit {full_number(totals['commit'])}, quota "
                + (full_number(totals["quota"]) if totals["quota"] is not None else "none")
                + "."
            ),
        ),
        "is_empty": not any(row.value or row.marker for row in rows),
    }


def _entries(count: int) -> str:
    return f"{count:,} entry" if count == 1 else f"{count:,} entries"


def _velocity(user, today: dt.date) -> dict[str, Any]:
    velocity = opportunity_velocity(user, start=today - dt.timedelta(days=VELOCITY_DAYS), end=today)
    labels = dict(OpportunityStage.choices)
    rows = [
        BarInput(
            label=labels[stage["stage"]],
            value=stage["average_days"] or 0,
            text=(
                f"{stage['average_days']:g} d avg · {stage['median_days']:g} d median · {stage['moved_on_rate']:g}% on"
                if stage["average_days"] is not None
                else f"{_entries(stage['entered'])}, none left yet"
            ),
            title=(
                f"{labels[stage['stage']]}: {_entries(stage['entered'])}; average {stage['average_days']} days, "
                f"median {stage['median_days']} days; {stage['moved_on_rate']}% moved on (to a later stage or won)"
            ),
        )
        for stage in velocity["stages"]
    ]
    return {
        "velocity": velocity,
        "days": VELOCITY_DAYS,
        "chart": bar_chart(rows, summary=f"Average days in each stage over the last {VELOCITY_DAYS} days."),
        "is_empty": not any(stage["entered"] for stage in velocity["stages"]),
    }


# --- leads ------------------------------------------------------------------------------------


def _lead_funnel(user) -> dict[str, Any]:
    summary = lead_analytics_summary(user)
    total = summary["total_leads"]
    rows = [
        BarInput(
            label=status.label,
            value=summary["by_status"][status.value],
            text=(
                f"{summary['by_status'][status.value]:,}"
                + (f" ({summary['by_status'][status.value] * 100 / total:.0f}%)" if total else "")
            ),
            url=_changelist("leads_lead", status__exact=status.value),
            tone="lost" if status == LeadStatus.LOST else "won" if status == LeadStatus.CONVERTED else "primary",
        )
        for status in FUNNEL
    ]
    return {
        "summary": summary,
        "chart": funnel_chart(
            rows, summary=f"Leads by status: {total:,} in all, {summary['conversion_rate']}% converted."
        ),
        "is_empty": total == 0,
    }


# --- follow-ups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    kind: str  # "Lead" or "Communication".
    title: str
    about: str
    due: dt.datetime
    is_overdue: bool
    url: str


def _lead_follow_ups(user, today: dt.date) -> tuple[list[FollowUp], int]:
    leads = lead_follow_ups_due_today(user, include_overdue=True, assigned_to_id=user.pk)
    start_of_today = start_of(today)
    shown = [
        FollowUp(
            kind="Lead",
            title=f"{lead.company_name} — {lead.contact_person}",
            about=f"{lead.lead_number} · {lead.get_status_display()}",
            due=lead.next_follow_up_date,
            # A lead's follow-up is overdue from the day after its date (as the digest says).
            is_overdue=lead.next_follow_up_date < start_of_today,
            url=_change("leads_lead", lead.pk),
        )
        for lead in leads[:FOLLOW_UPS_SHOWN]
    ]
    return shown, (leads.count() if len(shown) == FOLLOW_UPS_SHOWN else len(shown))


def _communication_follow_ups(user, today: dt.date) -> tuple[list[FollowUp], int]:
    follow_ups = pending_follow_ups(user, due_on_or_before=today, representative_id=user.pk).select_related(
        "lead", "opportunity"
    )
    shown = []
    for communication in follow_ups[:FOLLOW_UPS_SHOWN]:
        about = communication.customer or communication.opportunity or communication.lead
        shown.append(
            FollowUp(
                kind="Communication",
                title=communication.subject,
                about=f"{communication.get_type_display()} · {about}",
                due=communication.follow_up_date,
                is_overdue=communication.is_overdue,
                url=_change("communications_communication", communication.pk),
            )
        )
    return shown, (follow_ups.count() if len(shown) == FOLLOW_UPS_SHOWN else len(shown))


def _follow_ups(user, today: dt.date) -> dict[str, Any]:
    leads, lead_total = _lead_follow_ups(user, today)
    communications, communication_total = _communication_follow_ups(user, today)
    return {
        "leads": leads,
        "lead_total": lead_total,
        "leads_url": _changelist("leads_lead", assigned_to="me", follow_up="due"),
        "communications": communications,
        "communication_total": communication_total,
        "communications_url": _changelist(
            "communications_communication", follow_up="due", our_representative__id__exact=user.pk
        ),
        "total": lead_total + communication_total,
    }


# --- engagement -------------------------------------------------------------------------------


def _engagement(user, today: dt.date) -> dict[str, Any]:
    first_of_month = today.replace(day=1)
    summary = engagement_summary(user=user, start_date=first_of_month, end_date=today)
    representatives = summary["by_representative"]
    month = {"communication_date__year": today.year, "communication_date__month": today.month}
    rows = [
        BarInput(
            label=row["name"] or "No representative",
            value=row["count"],
            text=f"{row['count']:,} · {row['total_duration_minutes'] // 60}h {row['total_duration_minutes'] % 60:02d}m",
            title=(
                f"{row['name'] or 'No representative'}: {_plural(row['count'], 'communication')}, "
                f"{row['total_duration_minutes']:,} minutes"
            ),
            url=_changelist(
                "communications_communication",
                **month,
                **(
                    {"our_representative__id__exact": row["representative_id"]}
                    if row["representative_id"] is not None
                    else {"our_representative__isnull": "True"}
                ),
            ),
        )
        for row in representatives[:REPRESENTATIVES_SHOWN]
    ]
    return {
        "summary": summary,
        "month": first_of_month,
        "chart": bar_chart(rows, summary=f"Communications this month by representative: {summary['total']:,} in all."),
        "more": max(0, len(representatives) - REPRESENTATIVES_SHOWN),
        "url": _changelist("communications_communication", **month),
        "is_empty": summary["total"] == 0,
    }


# --- segments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRow:
    code: str
    name: str
    customer_count: int
    open_count: int
    open_value: Decimal
    won_value: Decimal
    win_rate: Decimal
    bar_width: float  # Open value relative to the largest shown, 0–100 (%).
    url: str


def _segments(user) -> dict[str, Any]:
    segments = list(segment_list_visible_to(user).filter(is_active=True)[: SEGMENTS_SHOWN + 1])
    shown = segments[:SEGMENTS_SHOWN]
    figures = segments_opportunity_figures(segment_ids=[segment.pk for segment in shown], user=user)
    largest = max((figures[segment.pk]["open_value"] for segment in shown), default=0)
    rows = [
        SegmentRow(
            code=segment.code,
            name=segment.name,
            customer_count=segment.customer_count,
            open_count=figures[segment.pk]["open_count"],
            open_value=figures[segment.pk]["open_value"],
            won_value=figures[segment.pk]["won_value"],
            win_rate=figures[segment.pk]["win_rate"],
            bar_width=round(float(figures[segment.pk]["open_value"] / largest * 100), 1) if largest else 0.0,
            url=_change("segments_segment", segment.pk),
        )
        for segment in shown
    ]
    return {"rows": rows, "has_more": len(segments) > SEGMENTS_SHOWN, "url": _changelist("segments_segment")}


# --- the page ---------------------------------------------------------------------------------


def dashboard_context(user) -> dict[str, Any]:
    """Everything the dashboard template shows, for ``user``."""
    if not has_crm_role(user):
        # Staff without a sales role (e.g. an IT account): nothing to count, say why.
        return {"dashboard": None}
    today = timezone.localdate()
    pipeline = _pipeline(user)
    return {
        "dashboard": {
            "today": today,
            "kpis": {
                "open_value": compact_number(pipeline["stats"]["total_pipeline_value"]),
                "weighted_value": compact_number(pipeline["stats"]["weighted_pipeline_value"]),
                "won_value": compact_number(pipeline["stats"]["won_value"]),
            },
            "scope": (
                "The whole team's records."
                if is_manager(user)
                else "Your opportunities, your and unassigned leads, and communications about your records."
            ),
            "follow_ups": _follow_ups(user, today),
            "pipeline": pipeline,
            "forecast": _forecast(user, today),
            "velocity": _velocity(user, today),
            "leads": _lead_funnel(user),
            "engagement": _engagement(user, today),
            "segments": _segments(user),
        }
    }
