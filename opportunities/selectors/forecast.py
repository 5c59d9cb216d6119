"""
The forecast against quota (contract: "Forecast, quotas and sales velocity"), by month or
quarter, for one owner or the team, with the figures as they stood on each period's first day.

The figures of a month: ``closed_won`` = Σ estimated_value of the opportunities won in it (by
``actual_close_date``); ``commit``, ``best_case``, ``pipeline`` = Σ estimated_value of the open
opportunities expected to close in it (``expected_close_date``) in that category alone (an
open "omitted" one counts in none); ``weighted`` = Σ expected_revenue of all those open ones
(omitted included: the contract's "the open ones"); ``quota`` = Σ of the quotas of the month,
null when there is none; ``attainment`` = closed_won ÷ quota × 100, null without a (non-zero)
quota. A quarter is its three months added up. Months are calendar months in TIME_ZONE.

Five queries whatever the number of opportunities or periods: open, won, quotas, and the
snapshots (which days were taken, and their rows).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm_project.core.dates import start_of
from crm_project.core.roles import is_manager

from ..models import OPEN_STAGES, ForecastSnapshot, Opportunity, OpportunityStage, Quota
from . import opportunity_visibility_q

ZERO = Decimal("0.00")
CATEGORY_FIGURES = ("commit", "best_case", "pipeline")
SUMMED_FIGURES = ("closed_won", *CATEGORY_FIGURES, "weighted")
MONTH = "month"
QUARTER = "quarter"


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    label: str  # 2026-03, or 2026-Q1
    months: tuple[dt.date, ...]

    @property
    def first_day(self) -> dt.date:
        return self.months[0]


def periods_between(period: str, start: dt.date, end: dt.date) -> list[Period]:
    """The months (or the quarters holding them) from ``start``'s to ``end``'s, inclusive."""
    start = first_of_month(start)
    if period == QUARTER:
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
    periods, month = [], start
    while month <= end:
        if period == QUARTER:
            months = tuple(add_months(month, i) for i in range(3))
            periods.append(Period(f"{month.year}-Q{(month.month - 1) // 3 + 1}", months))
        else:
            months = (month,)
            periods.append(Period(f"{month:%Y-%m}", months))
        month = add_months(months[-1], 1)
    return periods


def forecast_scope(user, owner_id: int | None) -> int | None:
    """Whose figures: a manager's choice (None: the team's); a rep always their own."""
    return owner_id if is_manager(user) else user.pk


def _month_of(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def monthly_figures(user, *, months: list[dt.date], owner_id: int | None) -> dict[tuple[Any, dt.date], dict]:
    """
    The figures (without attainment) per (owner id, month) for ``months`` (consecutive firsts
    of the month), over the opportunities ``user`` may see (one owner's, when given): three
    grouped queries. Owners without opportunities but with a quota are there too.
    """
    low, high = start_of(months[0]), start_of(add_months(months[-1], 1))
    opportunities = Opportunity.objects.filter(opportunity_visibility_q(user))
    quotas = Quota.objects.filter(period_start__gte=months[0], period_start__lte=months[-1])
    if owner_id is not None:
        opportunities = opportunities.filter(owner_id=owner_id)
        quotas = quotas.filter(user_id=owner_id)
    elif not is_manager(user):
        quotas = quotas.filter(user_id=user.pk)
    figures: dict[tuple[Any, dt.date], dict] = defaultdict(
        lambda: {"quota": None, **dict.fromkeys(SUMMED_FIGURES, ZERO)}
    )

    open_groups = (
        opportunities.filter(stage__in=OPEN_STAGES, expected_close_date__gte=low, expected_close_date__lt=high)
        .annotate(month=TruncMonth("expected_close_date"))
        .values("owner_id", "month", "forecast_category")
        .annotate(value=Sum("estimated_value"), weighted=Sum("expected_revenue"))
        .order_by()
    )
    for group in open_groups:
        row = figures[group["owner_id"], _month_of(group["month"])]
        row["weighted"] += group["weighted"]
        if group["forecast_category"] in CATEGORY_FIGURES:
            row[group["forecast_category"]] += group["value"]
    won_groups = (
        opportunities.filter(stage=OpportunityStage.CLOSED_WON, actual_close_date__gte=low, actual_close_date__lt=high)
        .annotate(month=TruncMonth("actual_close_date"))
        .values("owner_id", "month")
        .annotate(value=Sum("estimated_value"))
        .order_by()
    )
    for group in won_groups:
        figures[group["owner_id"], _month_of(group["month"])]["closed_won"] += group["value"]
    for user_id, month, amount in quotas.values_list("user_id", "period_start", "amount"):
        figures[user_id, month]["quota"] = amount
    return dict(figures)


def attainment(closed_won: Decimal, quota: Decimal | None) -> Decimal | None:
    """closed_won ÷ quota × 100, 2 decimals; null without a quota (or with a zero one)."""
    if not quota:
        return None
    return (closed_won * 100 / quota).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _add_up(rows) -> dict[str, Any]:
    """Figures summed; the quota stays null unless some row has one."""
    total: dict[str, Any] = {"quota": None, **dict.fromkeys(SUMMED_FIGURES, ZERO)}
    for row in rows:
        for name in SUMMED_FIGURES:
            total[name] += row[name]
        if row["quota"] is not None:
            total["quota"] = (total["quota"] or ZERO) + row["quota"]
    total["attainment"] = attainment(total["closed_won"], total["quota"])
    return total


def _snapshots(user, periods: list[Period], owner_id: int | None) -> dict[str, dict | None]:
    """Each period's figures as they stood on its first day (the snapshot taken that day), or None."""
    first_days = [period.first_day for period in periods]
    # The team row of a month is written whenever a day is taken: it says the day was taken.
    taken = set(
        ForecastSnapshot.objects.filter(day__in=first_days, owner__isnull=True).values_list("day", flat=True).distinct()
    )
    rows = ForecastSnapshot.objects.filter(day__in=taken)
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    by_day_month: dict[tuple[dt.date, dt.date], list[dict]] = defaultdict(list)
    for row in rows.values("day", "period_start", "quota", *SUMMED_FIGURES):
        by_day_month[row["day"], row["period_start"]].append(row)
    return {
        period.label: (
            _add_up(row for month in period.months for row in by_day_month[period.first_day, month])
            if period.first_day in taken
            else None
        )
        for period in periods
    }


def opportunity_forecast(
    user, *, period: str, start: dt.date, end: dt.date, owner_id: int | None = None, snapshots: bool = True
) -> dict:
    """
    ``{"periods": [{"period", "quota", "closed_won", "commit", "best_case", "pipeline",
    "weighted", "attainment", "snapshot"}], "totals": {...}}`` from ``start``'s month to
    ``end``'s, for ``owner_id`` or (without it) the team; a rep always gets their own.
    ``snapshots=False`` leaves ``snapshot`` null and skips its two queries (the dashboard).
    """
    owner_id = forecast_scope(user, owner_id)
    periods = periods_between(period, start, end)
    months = [month for each in periods for month in each.months]
    figures = monthly_figures(user, months=months, owner_id=owner_id)
    by_month: dict[dt.date, list[dict]] = defaultdict(list)
    for (_owner, month), row in figures.items():
        by_month[month].append(row)
    taken = _snapshots(user, periods, owner_id) if snapshots else {}
    rows = []
    for each in periods:
        row = _add_up(row for month in each.months for row in by_month[month])
        rows.append({"period": each.label, **row, "snapshot": taken.get(each.label)})
    return {"periods": rows, "totals": _add_up(rows)}
