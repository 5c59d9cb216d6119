"""``manage.py forecast_snapshot [--day YYYY-MM-DD]``: take the day's forecast snapshot without a broker."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm_project.core.commands import parse_day
from crm_project.core.text import plural
from opportunities.services import forecast_snapshot_take


class Command(BaseCommand):
    help = (
        "Take the day's forecast snapshot (what the daily scheduled task does): every owner's forecast figures "
        "for this month and the next 11, as they stand now. A day already taken is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", metavar="YYYY-MM-DD", help="The day to record it under (default today).")

    def handle(self, *args, **options):
        day = parse_day(options["day"], option="--day") if options["day"] else None
        written = forecast_snapshot_take(day=day)
        if written:
            self.stdout.write(self.style.SUCCESS(f"Forecast snapshot taken: {plural(written, 'row')}."))
        else:
            self.stdout.write("That day's forecast snapshot was already taken; nothing written.")
