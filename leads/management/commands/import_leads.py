"""
``manage.py import_leads FILE.csv``: create leads from a spreadsheet, by the API's rules
(``leads/imports.py``, as the API's import jobs do), all or nothing unless ``--skip-invalid``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm_project.core.commands import (
    actor_from,
    add_actor_argument,
    find_user,
    progress,
    refusals_as_command_errors,
    serializer_errors,
)
from crm_project.core.text import plural
from leads.imports import ImportFileError, LeadFile, import_leads, read_lead_file
from leads.lead_csv import COLUMNS


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
        lead_file = self._read(file, default_assignee)
        if lead_file.total == 0:
            self.stdout.write(f"{file} holds no rows to import.")
            return
        with refusals_as_command_errors(), progress(total=len(lead_file.rows), description="Creating leads") as bar:
            outcome = import_leads(
                actor=actor, lead_file=lead_file, dry_run=dry_run, skip_invalid=skip_invalid, progress=bar.update
            )
        for row, errors in outcome.problems.items():
            self.stderr.write(f"Row {row}: {serializer_errors(errors)}")

        valid, invalid, total = outcome.valid, len(outcome.problems), outcome.total
        if invalid and not skip_invalid:
            remedy = f", or use --skip-invalid to import the {plural(valid, 'valid row')}" if valid else ""
            raise CommandError(
                f"{'Dry run: n' if dry_run else 'N'}othing {'would be ' if dry_run else ''}imported from {file}: "
                f"{invalid:,} of {plural(total, 'row')} {'is' if invalid == 1 else 'are'} invalid (listed above). "
                f"Fix {'it' if invalid == 1 else 'them'}{remedy or ' and import again'}."
            )
        skipped = f"; {plural(invalid, 'invalid row')} skipped" if invalid else ""
        if dry_run:
            self.stdout.write(
                f"Dry run: {valid:,} of {plural(total, 'row')} would be created{skipped}. Nothing was written."
            )
            return
        numbers = outcome.result.numbers
        span = f" ({numbers[0]} to {numbers[-1]})" if numbers else ""
        self.stdout.write(
            self.style.SUCCESS(f"Created {plural(outcome.result.created, 'lead')} from {file}{span}{skipped}.")
        )

    def _default_assignee(self, value: str | None):
        if not value:
            return None
        user = find_user(value, option="--assign-to")
        if not user.is_active:
            raise CommandError(f"--assign-to: {user.get_username()} is deactivated.")
        return user

    def _read(self, path: str, default_assignee) -> LeadFile:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a directory, not a CSV file.") from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}.") from None
        with raw:
            try:
                return read_lead_file(
                    raw, default_assignee=default_assignee, each=lambda rows: progress(rows, description="Reading")
                )
            except ImportFileError as exc:
                raise CommandError(f"{path}: {exc.message}") from None
