"""
Importing leads from a CSV file (``lead_csv.py``'s columns), for ``manage.py import_leads`` and
the import jobs of ``POST /api/v1/crm/leads/import``. Each row is checked by the API's input
serializer (field by field), then by the lead services' rules (required fields, the rep's
assignee rule, unique email also within the file); the leads are created by
``lead_bulk_create``, all or nothing unless invalid rows are to be skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from crm_project.core.text import plural
from leads.api.serializers import LeadCreateSerializer
from leads.lead_csv import ASSIGNEE_COLUMN, cell_value, header_problems
from leads.services import LeadBulkCreateResult, lead_bulk_create

# The first data row is row 2 of the sheet: row 1 is the header.
FIRST_DATA_ROW = 2


class ImportFileError(Exception):
    """The file as a whole cannot be read as a lead CSV (not UTF-8, no header, unknown columns)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class LeadFile:
    """A file's rows as lead data keyed by row number, the rows refused field by field, and the count."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    total: int = 0


@dataclass(frozen=True)
class LeadImport:
    """What an import did (or, checking only, would do): the service's result and every row's problems."""

    result: LeadBulkCreateResult
    problems: dict[int, dict[str, list[str]]]
    total: int
    checked_only: bool

    @property
    def valid(self) -> int:
        return len(self.result.accepted)

    def summary(self) -> str:
        invalid = len(self.problems)
        if self.checked_only:
            return f"{self.valid:,} of {plural(self.total, 'row')} valid, {invalid:,} invalid; nothing was written."
        skipped = f"; {plural(invalid, 'invalid row')} skipped" if invalid else ""
        return f"Created {plural(self.result.created, 'lead')}{skipped}."


def count_rows(raw: IO[bytes]) -> int:
    """About how many data rows a file holds (its lines but the header), read quickly for progress."""
    raw.seek(0)
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
    raw.seek(0)
    return max(lines - 1, 0)


def read_lead_file(
    raw: IO[bytes], *, default_assignee=None, each: Callable[[Iterable], Iterable] | None = None
) -> LeadFile:
    """
    Read a lead CSV (UTF-8, with or without the BOM spreadsheets write) from a binary stream;
    ``each`` may wrap the rows as they are read (progress). Raises ImportFileError.
    """
    # utf-8-sig reads a file with or without the BOM.
    stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.reader(stream)
    lead_file = LeadFile()
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise ImportFileError("The file is empty: row 1 must name the columns.")
        wrong = header_problems(header)
        if wrong:
            raise ImportFileError("; ".join(wrong) + ".")
        check = _RowCheck(header, default_assignee)
        records: Iterable = enumerate(reader, start=FIRST_DATA_ROW)
        for number, record in each(records) if each else records:
            if not any(text.strip() for text in record):
                continue
            lead_file.total += 1
            data, errors = check(record)
            if errors:
                lead_file.problems[number] = errors
            else:
                lead_file.rows[number] = data
    except UnicodeDecodeError:
        raise ImportFileError(
            f"The file is not UTF-8 text (line {_undecodable_line(raw)}): save it as 'CSV UTF-8' and try again."
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: {exc}.") from None
    finally:
        stream.detach()  # The caller owns the raw stream.
    return lead_file


def import_leads(
    *,
    actor,
    lead_file: LeadFile,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LeadImport:
    """
    Create the file's leads by the lead services' rules. With invalid rows and no
    ``skip_invalid``, or with ``dry_run``, every row is still checked (so that every error is
    listed at once) and nothing is written.
    """
    checked_only = dry_run or (bool(lead_file.problems) and not skip_invalid)
    result = lead_bulk_create(
        actor=actor, rows=lead_file.rows, skip_invalid=skip_invalid, dry_run=checked_only, progress=progress
    )
    problems = dict(sorted({**lead_file.problems, **result.rejected}.items()))
    return LeadImport(result=result, problems=problems, total=lead_file.total, checked_only=checked_only)


def _undecodable_line(raw: IO[bytes]) -> int:
    """The line of the first byte that is not UTF-8 (text is decoded in blocks, so the reader can't tell)."""
    raw.seek(0)
    data = raw.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return 1


# How many distinct texts of a column the row check remembers its answers for.
REMEMBERED_VALUES = 512


def _checks_text_alone(field: serializers.Field) -> bool:
    """
    Whether the field's answer for a text depends on that text alone, and is an immutable value
    that rows may share: text, a choice, a number, a timestamp. Not a link (a query) nor a
    validator that reads the serializer (``requires_context``).
    """
    if not isinstance(
        field,
        (serializers.CharField, serializers.ChoiceField, serializers.DecimalField, serializers.DateTimeField),
    ) or isinstance(field, serializers.MultipleChoiceField):
        return False
    return not any(getattr(validator, "requires_context", False) for validator in field.validators)


class _RowCheck:
    """One row's cells → lead data, checked by the API's input serializer; or its errors."""

    def __init__(self, header: list[str], default_assignee):
        self.header = header
        self.default_assignee = default_assignee
        # One serializer for every row: its fields are built once (tens of times faster).
        self.serializer = LeadCreateSerializer()
        for column_field in self.serializer.fields.values():
            if _checks_text_alone(column_field):
                # A file repeats its cities, sources and priorities thousands of times: such a
                # field's answer for a text it has checked already is taken again (a refusal is
                # not kept, it is raised anew).
                column_field.run_validation = lru_cache(maxsize=REMEMBERED_VALUES)(column_field.run_validation)
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
