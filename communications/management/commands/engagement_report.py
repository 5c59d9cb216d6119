"""
``manage.py engagement_report [--since D] [--until D] [--representative USER] [--format ...]``:
the figures of ``GET /communications/analytics/engagement`` (``engagement_summary``, the same
function), with a row per representative.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from communications.api.serializers import EngagementQuerySerializer, EngagementSummarySerializer
from communications.selectors import engagement_summary
from crm_project.core.commands import (
    OUTPUT_FORMATS,
    actor_from,
    add_actor_argument,
    find_user,
    json_text,
    table,
    write_csv,
)

# The API's query parameters, named as this command's options.
OPTIONS = {"start_date": "--since", "end_date": "--until", "representative_id": "--representative"}


class Command(BaseCommand):
    help = (
        "Engagement figures as GET /api/v1/crm/communications/analytics/engagement gives them (same numbers): "
        "communications by type and direction, customers contacted, average duration, follow-ups required, "
        "completed and overdue, and a row per representative. Dates are inclusive (a date or an ISO 8601 "
        "timestamp). --format csv gives the per-representative rows; --format json the API's answer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="DATE", help="From this date (inclusive), on communication_date.")
        parser.add_argument("--until", metavar="DATE", help="To this date (inclusive, the whole day).")
        parser.add_argument(
            "--representative", metavar="USER", help="Only this representative's communications (username or id)."
        )
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="Output format (default table).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        actor = actor_from(options)
        query = {"start_date": options["since"], "end_date": options["until"]}
        if options["representative"]:
            query["representative_id"] = find_user(options["representative"], option="--representative").pk
        # The API's query serializer: the same date formats and the same "until before since" check.
        parsed = EngagementQuerySerializer(data={name: value for name, value in query.items() if value is not None})
        if not parsed.is_valid():
            raise CommandError(
                "; ".join(
                    f"{OPTIONS.get(name, name)}: {' '.join(str(message) for message in messages)}"
                    for name, messages in parsed.errors.items()
                )
            )
        summary = engagement_summary(user=actor, **parsed.validated_data)
        if options["format"] == "json":
            self.stdout.write(json_text(EngagementSummarySerializer(summary).data))
        elif options["format"] == "csv":
            rows = [
                (row["representative_id"], row["name"] or "(none)", row["count"], row["total_duration_minutes"])
                for row in summary["by_representative"]
            ]
            write_csv(self.stdout, ("representative_id", "name", "count", "total_duration_minutes"), rows)
        else:
            self.stdout.write(self._table(summary))

    def _table(self, summary: dict[str, Any]) -> str:
        start, end = summary["start_date"], summary["end_date"]
        period = f"from {start or 'the beginning'} to {end or 'now'}"
        follow_ups = summary["follow_ups"]
        average = summary["average_duration_minutes"]
        by_type = ", ".join(f"{kind} {count}" for kind, count in summary["by_type"].items() if count) or "none"
        rows = [
            (row["name"] or "(no representative)", row["count"], row["total_duration_minutes"])
            for row in summary["by_representative"]
        ]
        return (
            f"Engagement {period}\n\n"
            f"Communications: {summary['total']} (inbound {summary['by_direction']['inbound']}, "
            f"outbound {summary['by_direction']['outbound']})\n"
            f"By type: {by_type}\n"
            f"Customers contacted: {summary['customers_contacted']}\n"
            f"Average duration: {'-' if average is None else f'{average} min'}\n"
            f"Follow-ups: {follow_ups['required']} required, {follow_ups['completed']} completed "
            f"({follow_ups['completion_rate']} %), {follow_ups['overdue']} overdue\n\n"
            f"{table(('Representative', 'Communications', 'Minutes'), rows)}"
        )
