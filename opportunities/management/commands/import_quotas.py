"""
``manage.py import_quotas FILE.csv``: set users' monthly quotas from a spreadsheet through
``quota_import`` (all or nothing; an existing quota of the same user and month gets the new amount).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from crm_project.core.commands import actor_from, add_actor_argument, find_user, refusals_as_command_errors
from opportunities.services import quota_import

COLUMNS = ("user", "month", "amount")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(-01)?$")


class Command(BaseCommand):
    help = (
        "Set monthly quotas from a CSV file (UTF-8). Row 1 names the columns user, month, amount: user is a "
        "username or id, month is YYYY-MM (or the month's first day, YYYY-MM-01), amount a number ≥ 0 with at "
        "most 2 decimals. A quota the user already has for that month gets the new amount. All or nothing: one "
        "bad row and nothing changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="The CSV file to import.")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        actor = actor_from(options)
        rows = self._read(options["file"])
        with refusals_as_command_errors():
            counts = quota_import(actor=actor, rows=rows, first_row=2)
        self.stdout.write(
            self.style.SUCCESS(
                f"Quotas: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged."
            )
        )

    def _read(self, path: str) -> list[dict]:
        try:
            with open(path, encoding="utf-8-sig", newline="") as file:
                lines = list(csv.DictReader(file))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{path}: cannot read it as a UTF-8 CSV file ({error}).") from None
        if lines and set(COLUMNS) - set(lines[0]):
            raise CommandError(f"{path}: row 1 must name the columns {', '.join(COLUMNS)}.")
        rows = []
        # Numbered as a spreadsheet shows them: the header is row 1.
        for number, line in enumerate(lines, start=2):
            where = f"Row {number}"
            month = MONTH.match((line.get("month") or "").strip())
            if month is None:
                raise CommandError(f"{where}: month {line.get('month')!r} is not YYYY-MM.")
            try:
                amount = Decimal((line.get("amount") or "").strip())
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
                raise CommandError(f"{where}: amount {line.get('amount')!r} is not a number ≥ 0 with 2 decimals.")
            if amount >= Decimal("1e12"):
                raise CommandError(f"{where}: amount {line.get('amount')!r} is too large.")
            user = find_user(line.get("user") or "", option=f"{where}: user")
            rows.append({"user": user, "period_start": dt.date(int(month[1]), int(month[2]), 1), "amount": amount})
        return rows
