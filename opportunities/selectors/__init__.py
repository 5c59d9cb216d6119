"""Reads of opportunities: the visibility rule, lists, history and pipeline statistics."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from crm_project.core.roles import has_crm_role, is_manager

from ..models import OPEN_STAGES, Opportunity, OpportunityStage, OpportunityStageChange, Quota

ZERO = Decimal("0.00")


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


def quota_list_visible_to(user) -> QuerySet[Quota]:
    """Managers see every quota, a sales rep their own, anyone else none."""
    if is_manager(user):
        return Quota.objects.all()
    if has_crm_role(user):
        return Quota.objects.filter(user=user)
    return Quota.objects.none()


def opportunity_stage_history(opportunity: Opportunity) -> QuerySet[OpportunityStageChange]:
    """The opportunity's stage changes, oldest first (the caller has checked visibility)."""
    return opportunity.stage_changes.select_related("changed_by").order_by("changed_at", "id")


def _win_rate(won: int, lost: int) -> Decimal:
    """won ÷ (won + lost) × 100 with 2 decimals; 0 when nothing is closed."""
    if won + lost == 0:
        return ZERO
    return (Decimal(won * 100) / Decimal(won + lost)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _stage_totals(queryset: QuerySet[Opportunity], *group_by: str) -> QuerySet:
    """
    Count, Σ estimated_value and Σ expected_revenue per owner and stage (and per
    ``group_by``), in one grouped query. COUNT(*) and the columns of ``opp_pipeline_idx``
    only, grouped in the index's order: PostgreSQL reads the index alone (with a fresh
    visibility map) and aggregates as it goes, without hashing. Callers add the owners up.
    """
    return (
        queryset.values("owner_id", *group_by, "stage")
        .annotate(count=Count("*"), total=Sum("estimated_value"), weighted=Sum("expected_revenue"))
        .order_by()
    )


def _empty_row() -> dict[str, Any]:
    row: dict[str, Any] = {}
    for stage in OpportunityStage.values:
        row.update({f"{stage}_count": 0, f"{stage}_total": ZERO, f"{stage}_weighted": ZERO})
    return row


def _add_stage(row: dict[str, Any], totals: dict[str, Any]) -> None:
    stage = totals["stage"]
    row[f"{stage}_count"] += totals["count"]
    row[f"{stage}_total"] += totals["total"]
    row[f"{stage}_weighted"] += totals["weighted"]


def _pipeline_stats_from(row: dict[str, Any]) -> dict[str, Any]:
    """The pipeline statistics from the stage totals of ``_stage_totals``: the one place they are defined."""
    by_stage = {
        stage: {
            "count": row[f"{stage}_count"],
            "total_value": row[f"{stage}_total"],
            "weighted_value": row[f"{stage}_weighted"],
        }
        for stage in OpportunityStage.values
    }
    open_stages = [by_stage[stage] for stage in OPEN_STAGES]
    won, lost = by_stage[OpportunityStage.CLOSED_WON], by_stage[OpportunityStage.CLOSED_LOST]
    return {
        "total_opportunities": sum(stats["count"] for stats in by_stage.values()),
        "open_opportunities": sum(stats["count"] for stats in open_stages),
        "total_pipeline_value": sum((stats["total_value"] for stats in open_stages), ZERO),
        "weighted_pipeline_value": sum((stats["weighted_value"] for stats in open_stages), ZERO),
        "won_value": won["total_value"],
        "win_rate": _win_rate(won["count"], lost["count"]),
        "by_stage": by_stage,
    }


def _pipeline_queryset(user, owner_id: int | None) -> QuerySet[Opportunity]:
    queryset = Opportunity.objects.filter(opportunity_visibility_q(user))
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    return queryset


def opportunity_pipeline_stats(user, *, owner_id: int | None = None) -> dict[str, Any]:
    """
    The pipeline statistics over the opportunities ``user`` may see (optionally
    one owner's), in one aggregate query whatever the number of rows:

    - ``by_stage``: every stage with its count, Σ estimated_value and Σ expected_revenue;
    - ``total_pipeline_value`` / ``weighted_pipeline_value``: those sums over open stages;
    - ``won_value``: Σ estimated_value of closed_won; ``win_rate``: won ÷ (won + lost) × 100.
    """
    row = _empty_row()
    for totals in _stage_totals(_pipeline_queryset(user, owner_id)):
        _add_stage(row, totals)
    return _pipeline_stats_from(row)


def opportunity_pipeline_by_owner(user, *, owner_id: int | None = None) -> list[dict[str, Any]]:
    """
    ``opportunity_pipeline_stats`` for each owner, in one grouped query: every row holds the
    same keys with the same definitions, plus ``owner_id`` and ``owner_name`` (full name or
    username). Opportunities without an owner make one row whose owner is ``None``. Ordered by
    weighted pipeline value, largest first, then by name.
    """
    owner_fields = ("owner__username", "owner__first_name", "owner__last_name")
    rows: dict[Any, dict[str, Any]] = {}
    for totals in _stage_totals(_pipeline_queryset(user, owner_id), *owner_fields):
        names = {name: totals[name] for name in ("owner_id", *owner_fields)}
        row = rows.setdefault(totals["owner_id"], {**_empty_row(), **names})
        _add_stage(row, totals)
    by_owner = []
    for row in rows.values():
        full_name = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
        by_owner.append(
            {
                "owner_id": row["owner_id"],
                "owner_name": (full_name or row["owner__username"]) if row["owner_id"] is not None else None,
                **_pipeline_stats_from(row),
            }
        )
    return sorted(
        by_owner,
        key=lambda stats: (-stats["weighted_pipeline_value"], stats["owner_id"] is None, stats["owner_name"] or ""),
    )
