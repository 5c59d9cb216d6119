"""
``manage.py import_leads FILE.csv``: create leads from a spreadsheet, by the API's rules.

Each row is checked by the API's input serializer (field by field) and then by the lead
services' rules (required fields, the rep's assignee rule, unique email also within the
file); the leads are created by ``lead_bulk_create``, all or nothing unless ``--skip-invalid``.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework import serializers

from crm_project.core.commands import (
    actor_from,
    add_actor_argument,
    find_user,
    progress,
    refusals_as_command_errors,
    serializer_errors,
)
from crm_project.core.text import plural
from leads.api.serializers import LeadCreateSerializer
from leads.lead_csv import ASSIGNEE_COLUMN, COLUMNS, cell_value, header_problems
from leads.services import lead_bulk_create

# The first data row is row 2 of the sheet: row 1 is the header.
FIRST_DATA_ROW = 2


class Command(BaseCommand):
    help = (
        "Create leads from a CSV file (UTF-8, with or without a BOM; 'CSV UTF-8' in spreadsheets). Row 1 names "
        f"the columns, any of: {', '.join(COLUMNS)}; company_name, contact_person and email are required, "
        "assigned_to is a username. Every row is checked by the API's rules, a duplicate email too (also "
        "against the file's other rows, in any case). All or nothing: one invalid row and nothing is created; "
        "errors are listed by row number as a spreadsheet shows them. export_leads writes this format."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="The CSV file to import.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; create nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Create the valid rows and report the invalid ones."
        )
        parser.add_argument(
            "--assign-to",
            metavar="USER",
            help="Assign the leads whose assigned_to cell is empty to this user (username or id).",
        )
        add_actor_argument(parser)

    def handle(self, *args, file: str, dry_run: bool, skip_invalid: bool, **options):
        actor = actor_from(options)
        default_assignee = self._default_assignee(options.get("assign_to"))
        rows, problems, total = self._read(file, default_assignee)
        if total == 0:
            self.stdout.write(f"{file} holds no rows to import.")
            return

        # With invalid rows already found and no --skip-invalid, the service only checks the
        # others (so that every error is listed at once) and writes nothing.
        checking_only = dry_run or (bool(problems) and not skip_invalid)
        with refusals_as_command_errors(), progress(total=len(rows), description="Creating leads") as bar:
            result = lead_bulk_create(
                actor=actor, rows=rows, skip_invalid=skip_invalid, dry_run=checking_only, progress=bar.update
            )
        problems = dict(sorted({**problems, **result.rejected}.items()))
        for row, errors in problems.items():
            self.stderr.write(f"Row {row}: {serializer_errors(errors)}")

        valid = len(result.accepted)
        invalid = len(problems)
        if problems and not skip_invalid:
            remedy = f", or use --skip-invalid to import the {plural(valid, 'valid row')}" if valid else ""
            raise CommandError(
                f"{'Dry run: n' if dry_run else 'N'}othing {'would be ' if dry_run else ''}imported from {file}: "
                f"{invalid:,} of {plural(total, 'row')} {'is' if invalid == 1 else 'are'} invalid (listed above). "
                f"Fix {'it' if invalid == 1 else 'them'}{remedy or ' and import again'}."
            )
        skipped = f"; {plural(invalid, 'invalid row')} skipped" if problems else ""
        if dry_run:
            self.stdout.write(
                f"Dry run: {valid:,} of {plural(total, 'row')} would be created{skipped}. Nothing was written."
            )
            return
        numbers = f" ({result.numbers[0]} to {result.numbers[-1]})" if result.numbers else ""
        self.stdout.write(
            self.style.SUCCESS(f"Created {plural(result.created, 'lead')} from {file}{numbers}{skipped}.")
        )

    def _default_assignee(self, value: str | None):
        if not value:
            return None
        user = find_user(value, option="--assign-to")
        if not user.is_active:
            raise CommandError(f"--assign-to: {user.get_username()} is deactivated.")
        return user

    def _read(self, path: str, default_assignee) -> tuple[dict[int, dict], dict[int, dict], int]:
        """
        The file's rows as lead data keyed by row number, the rows refused field by field, and
        the number of rows (blank ones aside).
        """
        try:
            # utf-8-sig reads a file with or without the BOM that spreadsheets write.
            stream = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a directory, not a CSV file.") from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}.") from None

        rows: dict[int, dict] = {}
        problems: dict[int, dict] = {}
        total = 0
        reader = csv.reader(stream)
        try:
            with stream:
                header = [name.strip().lower() for name in next(reader, [])]
                if not any(header):
                    raise CommandError(f"{path} is empty: row 1 must name the columns.")
                wrong = header_problems(header)
                if wrong:
                    raise CommandError(f"{path}: {'; '.join(wrong)}.")
                check = _RowCheck(header, default_assignee)
                for number, record in enumerate(progress(reader, description="Reading"), start=FIRST_DATA_ROW):
                    if not any(text.strip() for text in record):
                        continue
                    total += 1
                    data, errors = check(record)
                    if errors:
                        problems[number] = errors
                    else:
                        rows[number] = data
        except UnicodeDecodeError:
            raise CommandError(
                f"{path} is not UTF-8 text (line {_undecodable_line(path)}): save it as 'CSV UTF-8' and try again."
            ) from None
        except csv.Error as exc:
            raise CommandError(f"{path}, line {reader.line_num}: {exc}.") from None
        return rows, problems, total


def _undecodable_line(path: str) -> int:
    """The line of the first byte that is not UTF-8 (text is decoded in blocks, so the reader can't tell)."""
    with open(path, "rb") as stream:
        data = stream.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return 1


class _RowCheck:
    """One row's cells → lead data, checked by the API's input serializer; or its errors."""

    def __init__(self, header: list[str], default_assignee):
        self.header = header
        self.default_assignee = default_assignee
        # One serializer for every row: its fields are built once (tens of times faster).
        self.serializer = LeadCreateSerializer()
        self.assignees: dict[str, Any] = {}

    def __call__(self, record: list[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        if len(record) > len(self.header):
            return {}, {"row": [f"{len(record)} values, but the header names {len(self.header)} columns."]}
        # A short row (trailing empty cells dropped) leaves the missing columns empty.
        cells = {
            name: value
            for name, text in zip(self.header, record, strict=False)
            if (value := cell_value(text)) is not None
        }
        assignee_name = cells.pop(ASSIGNEE_COLUMN, None)
        errors: dict[str, list[str]] = {}
        try:
            data = self.serializer.run_validation(cells)
        except serializers.ValidationError as exc:
            data = {}
            errors.update({field: [str(message) for message in messages] for field, messages in exc.detail.items()})
        assignee = self._assignee(assignee_name) if assignee_name else self.default_assignee
        if assignee_name and assignee is None:
            errors[ASSIGNEE_COLUMN] = [f"No active user with the username {assignee_name!r}."]
        if errors:
            return {}, errors
        if assignee is not None:
            data["assigned_to"] = assignee
        return data, {}

    def _assignee(self, username: str):
        # One query per distinct username in the file; an assignee must be active, as in the API.
        if username not in self.assignees:
            User = get_user_model()
            self.assignees[username] = User.objects.filter(username=username.strip(), is_active=True).first()
        return self.assignees[username]
