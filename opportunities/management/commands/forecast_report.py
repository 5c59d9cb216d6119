"""
``manage.py forecast_report [--period month|quarter] [--start YYYY-MM] [--end YYYY-MM] [--owner USER]
[--format table|csv|json]``: the forecast against quota (``GET /opportunities/forecast``, the same
function and rules) and the stage velocity over the same months (``GET /opportunities/analytics/velocity``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm_project.core.commands import (
    OUTPUT_FORMATS,
    actor_from,
    add_actor_argument,
    find_user,
    json_text,
    serializer_errors,
    table,
    write_csv,
)
from opportunities.api.forecast import ForecastQuerySerializer, ForecastSerializer
from opportunities.api.velocity import VelocitySerializer
from opportunities.selectors.forecast import add_months, opportunity_forecast
from opportunities.selectors.velocity import opportunity_velocity

FIGURES = ("quota", "closed_won", "commit", "best_case", "pipeline", "weighted", "attainment")
VELOCITY = ("stage", "entered", "average_days", "median_days", "moved_on_rate")


class Command(BaseCommand):
    help = (
        "The forecast against quota as GET /api/v1/crm/opportunities/forecast gives it (same numbers): per month "
        "or quarter the quota, closed won, commit, best case, pipeline, weighted and attainment, with the snapshot "
        "of the period's first day; then the stage velocity over the same months. --format csv gives the forecast "
        "rows (snapshot columns prefixed snapshot_); --format json gives both answers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=("month", "quarter"), default="month")
        parser.add_argument("--start", metavar="YYYY-MM", help="First month (default this month).")
        parser.add_argument("--end", metavar="YYYY-MM", help="Last month (default the start's period's last).")
        parser.add_argument("--owner", metavar="USER", help="Only this owner (username or id); default the team.")
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="Output format (default table).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        actor = actor_from(options)
        owner = find_user(options["owner"], option="--owner") if options["owner"] else None
        query = {"period": options["period"]}
        query.update({name: options[name] for name in ("start", "end") if options[name]})
        if owner is not None:
            query["owner_id"] = owner.pk
        parsed = ForecastQuerySerializer(data=query, context={"today": timezone.localdate()})
        if not parsed.is_valid():
            raise CommandError(serializer_errors(parsed.errors))
        params = parsed.validated_data
        forecast = ForecastSerializer(opportunity_forecast(actor, **params)).data
        last_day = add_months(params["end"], 1) - dt.timedelta(days=1)
        velocity = VelocitySerializer(
            opportunity_velocity(actor, start=params["start"], end=last_day, owner_id=params.get("owner_id"))
        ).data
        if options["format"] == "json":
            self.stdout.write(json_text({"forecast": forecast, "velocity": velocity}))
        elif options["format"] == "csv":
            headers = ["period", *FIGURES, *(f"snapshot_{name}" for name in FIGURES)]
            write_csv(self.stdout, headers, [self._csv_row(row) for row in forecast["periods"]])
        else:
            self._table(forecast, velocity, owner)

    def _csv_row(self, row: dict[str, Any]) -> list[Any]:
        snapshot = row["snapshot"] or {}
        return [row["period"], *(row[name] for name in FIGURES), *(snapshot.get(name) for name in FIGURES)]

    def _table(self, forecast: dict[str, Any], velocity: dict[str, Any], owner) -> None:
        scope = f"owner {owner.get_username()}" if owner is not None else "the team"
        rows = [(row["period"], *(row[name] for name in FIGURES)) for row in forecast["periods"]]
        rows.append(("total", *(forecast["totals"][name] for name in FIGURES)))
        snapshots = [
            (row["period"], *((row["snapshot"] or {}).get(name, "") for name in FIGURES))
            for row in forecast["periods"]
            if row["snapshot"]
        ]
        headers = ("Period", "Quota", "Won", "Commit", "Best case", "Pipeline", "Weighted", "Attainment %")
        stages = [tuple(stage[name] for name in VELOCITY) for stage in velocity["stages"]]
        self.stdout.write(
            f"Forecast of {scope}\n\n{table(headers, rows)}\n\n"
            + (f"As it stood on each period's first day\n{table(headers, snapshots)}\n\n" if snapshots else "")
            + "Stage velocity\n"
            + table(("Stage", "Entered", "Average days", "Median days", "Moved on %"), stages)
            + f"\n\nAverage cycle (created → won): {velocity['average_cycle_days']} days; "
            f"average won value: {velocity['average_won_value']}\n"
        )
