"""
Sales velocity from the stage history (contract: "Forecast, quotas and sales velocity"), over
the stage moves dated in a range, of the opportunities a user may see (one owner's, if asked).

- per stage: ``entered`` counts the moves into it (the creation row enters the first stage);
  ``average_days`` and ``median_days`` are the time spent in it, from the entry to the next
  move, by the entries that left it (null when none did); ``moved_on_rate`` is the share of the
  entries whose next move went to an open stage further on or to closed_won (a percentage with
  2 decimals; 0 without entries);
- ``average_cycle_days``: creation to the closed_won move, over the wins dated in the range;
- ``win_rate_by_source`` / ``win_rate_by_industry``: won ÷ (won + lost) × 100 over the closing
  moves dated in the range, by the source of the opportunity's lead and the industry of its
  customer (opportunities without a lead, or customers without an industry, count in neither);
- ``average_won_value``: mean estimated_value of those wins (null when none).

Two queries whatever the range: the entries (each with its next move, from the index on
opportunity and time), and the closing moves with their lead's source and customer's industry.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery

from crm_project.core.dates import check_range, end_exclusive_of, start_of

from ..models import OPEN_STAGES, Opportunity, OpportunityStage, OpportunityStageChange
from . import opportunity_visibility_q

TWO_PLACES = Decimal("0.01")
STAGE_ORDER = {stage: index for index, stage in enumerate(OPEN_STAGES)}
DAY = dt.timedelta(days=1)


def _rounded(value: float | Decimal | None) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def _rate(part: int, whole: int) -> float:
    return _rounded(Decimal(part * 100) / Decimal(whole)) if whole else 0.0


def _days(delta: dt.timedelta) -> float:
    return delta / DAY


def moved_on(from_stage: str, to_stage: str | None) -> bool:
    """Whether a move out of ``from_stage`` went forward: to a later open stage, or won."""
    if to_stage == OpportunityStage.CLOSED_WON:
        return True
    return to_stage in STAGE_ORDER and from_stage in STAGE_ORDER and STAGE_ORDER[to_stage] > STAGE_ORDER[from_stage]


def _changes_in_range(user, *, start, end, owner_id: int | None):
    check_range(start, end)
    opportunities = Opportunity.objects.filter(opportunity_visibility_q(user))
    if owner_id is not None:
        opportunities = opportunities.filter(owner_id=owner_id)
    changes = OpportunityStageChange.objects.filter(opportunity__in=opportunities.values("pk"))
    if start is not None:
        changes = changes.filter(changed_at__gte=start_of(start))
    if end is not None:
        changes = changes.filter(changed_at__lt=end_exclusive_of(end))
    return changes


def opportunity_velocity(user, *, start=None, end=None, owner_id: int | None = None) -> dict[str, Any]:
    changes = _changes_in_range(user, start=start, end=end, owner_id=owner_id)
    # The move that followed each entry (the opportunity's next row), whenever it was dated.
    following = (
        OpportunityStageChange.objects.filter(opportunity_id=OuterRef("opportunity_id"))
        .filter(Q(changed_at__gt=OuterRef("changed_at")) | Q(changed_at=OuterRef("changed_at"), id__gt=OuterRef("id")))
        .order_by("changed_at", "id")
    )
    entries = changes.annotate(
        left_at=Subquery(following.values("changed_at")[:1]),
        left_to=Subquery(following.values("to_stage")[:1]),
    ).values_list("to_stage", "changed_at", "left_at", "left_to")

    entered: dict[str, int] = defaultdict(int)
    stays: dict[str, list[float]] = defaultdict(list)
    moved: dict[str, int] = defaultdict(int)
    for stage, entered_at, left_at, left_to in entries.order_by():
        entered[stage] += 1
        if left_at is not None:
            stays[stage].append(_days(left_at - entered_at))
            moved[stage] += moved_on(stage, left_to)
    stages = [
        {
            "stage": stage,
            "entered": entered[stage],
            "average_days": _rounded(statistics.fmean(stays[stage])) if stays[stage] else None,
            "median_days": _rounded(statistics.median(stays[stage])) if stays[stage] else None,
            "moved_on_rate": _rate(moved[stage], entered[stage]),
        }
        for stage in OPEN_STAGES
    ]

    closes = changes.filter(to_stage__in=[OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST]).values_list(
        "to_stage",
        "changed_at",
        F("opportunity__created_at"),
        F("opportunity__estimated_value"),
        F("opportunity__lead__source"),
        F("opportunity__customer__industry"),
    )
    cycles: list[float] = []
    won_values: list[Decimal] = []
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_industry: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for stage, closed_at, created_at, value, source, industry in closes.order_by():
        won = stage == OpportunityStage.CLOSED_WON
        if won:
            cycles.append(_days(closed_at - created_at))
            won_values.append(value)
        if source:
            by_source[source][0 if won else 1] += 1
        if industry:
            by_industry[industry][0 if won else 1] += 1
    return {
        "stages": stages,
        "average_cycle_days": _rounded(statistics.fmean(cycles)) if cycles else None,
        "win_rate_by_source": {key: _rate(won, won + lost) for key, (won, lost) in sorted(by_source.items())},
        "win_rate_by_industry": {key: _rate(won, won + lost) for key, (won, lost) in sorted(by_industry.items())},
        "average_won_value": _rounded(sum(won_values) / len(won_values)) if won_values else None,
    }
