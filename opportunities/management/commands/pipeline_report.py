"""
``manage.py pipeline_report [--owner USER] [--format table|csv|json]``: the API's pipeline
statistics (``opportunity_pipeline_stats``, the same function and definitions as
``GET /opportunities/pipeline/stats``) by stage, and the same figures for each owner.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm_project.core.commands import (
    OUTPUT_FORMATS,
    actor_from,
    add_actor_argument,
    find_user,
    json_text,
    table,
    write_csv,
)
from opportunities.api.serializers import PipelineStatsSerializer
from opportunities.models import OpportunityStage
from opportunities.selectors import opportunity_pipeline_by_owner, opportunity_pipeline_stats

TOTALS = (
    "total_opportunities",
    "open_opportunities",
    "total_pipeline_value",
    "weighted_pipeline_value",
    "won_value",
    "win_rate",
)
STAGE_FIGURES = ("count", "total_value", "weighted_value")


class Command(BaseCommand):
    help = (
        "Pipeline statistics as GET /api/v1/crm/opportunities/pipeline/stats gives them (same numbers): "
        "per stage count, total and weighted value; open pipeline value (total and weighted), won value and "
        "win rate; then the same figures for each owner. --format csv gives one row per owner and an 'all' row; "
        "--format json gives the API's answer with a by_owner list."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", metavar="USER", help="Only this owner's opportunities (username or user id).")
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="Output format (default table).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        actor = actor_from(options)
        owner = find_user(options["owner"], option="--owner") if options["owner"] else None
        owner_id = owner.pk if owner is not None else None
        stats = opportunity_pipeline_stats(actor, owner_id=owner_id)
        by_owner = opportunity_pipeline_by_owner(actor, owner_id=owner_id)
        scope = f"owner {owner.get_username()}" if owner is not None else "all owners"
        if options["format"] == "json":
            self.stdout.write(json_text(self._json(stats, by_owner)))
        elif options["format"] == "csv":
            self._csv(stats, by_owner)
        else:
            self._table(stats, by_owner, scope)

    def _json(self, stats: dict[str, Any], by_owner: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            **PipelineStatsSerializer(stats).data,
            "by_owner": [
                {"owner_id": row["owner_id"], "owner_name": row["owner_name"], **PipelineStatsSerializer(row).data}
                for row in by_owner
            ],
        }

    def _csv(self, stats: dict[str, Any], by_owner: list[dict[str, Any]]) -> None:
        headers = [
            "owner_id",
            "owner",
            *TOTALS,
            *(f"{stage}_{figure}" for stage in OpportunityStage.values for figure in STAGE_FIGURES),
        ]

        def line(owner_id, owner, figures) -> list[Any]:
            stages = [figures["by_stage"][stage][name] for stage in OpportunityStage.values for name in STAGE_FIGURES]
            return [owner_id, owner, *(figures[name] for name in TOTALS), *stages]

        rows = [line(row["owner_id"], row["owner_name"] or "(no owner)", row) for row in by_owner]
        write_csv(self.stdout, headers, [*rows, line(None, "all", stats)])

    def _table(self, stats: dict[str, Any], by_owner: list[dict[str, Any]], scope: str) -> None:
        by_stage = stats["by_stage"]
        stage_rows = [
            (label, by_stage[stage]["count"], by_stage[stage]["total_value"], by_stage[stage]["weighted_value"])
            for stage, label in OpportunityStage.choices
        ]
        owner_rows = [
            (
                row["owner_name"] or "(no owner)",
                row["open_opportunities"],
                row["total_pipeline_value"],
                row["weighted_pipeline_value"],
                row["by_stage"][OpportunityStage.CLOSED_WON]["count"],
                row["by_stage"][OpportunityStage.CLOSED_LOST]["count"],
                row["won_value"],
                row["win_rate"],
            )
            for row in by_owner
        ]
        self.stdout.write(
            f"Pipeline of {scope}: {stats['total_opportunities']} opportunities, {stats['open_opportunities']} open\n\n"
            f"{table(('Stage', 'Count', 'Total value', 'Weighted value'), stage_rows)}\n\n"
            f"Open pipeline: {stats['total_pipeline_value']:,.2f} total, "
            f"{stats['weighted_pipeline_value']:,.2f} weighted\n"
            f"Won: {stats['won_value']:,.2f}; win rate {stats['win_rate']} % (won ÷ (won + lost))\n\n"
            "By owner\n"
            f"{table(('Owner', 'Open', 'Pipeline', 'Weighted', 'Won', 'Lost', 'Won value', 'Win rate %'), owner_rows)}"
        )
