"""
What every manager command (``manage.py followups_digest``, ``import_leads``, ...) shares,
written once: who acts, reading users, dates and list filters from arguments, turning a
service's refusal into a one-line error, and writing tables, CSV and JSON.

Commands stay thin: arguments → the same services and selectors the API uses → a summary.
Bad input ends the command with ``CommandError``: one line on stderr and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from tqdm import tqdm

from crm_project.core.admin import error_message
from crm_project.core.api.filters import (
    MAX_USER_ID,
    DateOrDateTimeField,
    DateOrDateTimeFilter,
    StrictBooleanFilter,
    UserIdFilter,
)
from crm_project.core.csvfiles import (  # noqa: F401 - the commands' CSV helpers
    FORMULA_STARTS,
    csv_value,
    from_spreadsheet,
    spreadsheet_safe,
    write_csv,
)
from crm_project.core.exceptions import DomainError
from crm_project.core.exports import CsvExport
from crm_project.core.jsonencoding import dumps
from crm_project.core.roles import has_crm_role, system_actor
from crm_project.core.text import plural

OUTPUT_FORMATS = ("table", "csv", "json")

# --- who acts ---------------------------------------------------------------------------------


def find_user(value: str, *, option: str):
    """The user named by ``value``: a username, or else a numeric user id."""
    text = (value or "").strip()
    User = get_user_model()
    user = User.objects.filter(username=text).first() if text else None
    if user is None and text.isdigit() and 0 < int(text) <= MAX_USER_ID:
        user = User.objects.filter(pk=int(text)).first()
    if user is None:
        raise CommandError(f"{option}: no user with the username or id {text!r}.")
    return user


def find_crm_user(value: str, *, option: str):
    """An active user with a CRM role (sales rep, sales manager or superuser)."""
    user = find_user(value, option=option)
    if not user.is_active:
        raise CommandError(f"{option}: {user.get_username()} is deactivated.")
    if not has_crm_role(user):
        raise CommandError(f"{option}: {user.get_username()} has no CRM role (sales rep or sales manager).")
    return user


def add_actor_argument(parser) -> None:
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="USER",
        help="Act as this user (username or id), with their record access and rules; "
        "by default the command sees and may do everything, as a manager.",
    )


def actor_from(options: dict[str, Any]):
    """The ``--as`` user, or the system actor."""
    if options.get("actor"):
        return find_crm_user(options["actor"], option="--as")
    return system_actor()


def display_name(user) -> str:
    """``Ravi Rep (rep1)``, or just the username when the user has no name."""
    if user is None:
        return "nobody"
    full_name = user.get_full_name()
    return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


# --- dates --------------------------------------------------------------------------------------


def parse_day(value: str | None, *, option: str) -> dt.date:
    """A calendar day (``YYYY-MM-DD``); ``None`` means today in TIME_ZONE."""
    if value is None:
        return timezone.localdate()
    try:
        day = parse_date(value.strip())
    except ValueError:  # Well-formed but impossible, such as 2025-02-30.
        day = None
    if day is None:
        raise CommandError(f"{option}: {value!r} is not a date; use YYYY-MM-DD.")
    return day


def parse_bound(value: str | None, *, option: str) -> dt.date | dt.datetime | None:
    """A date or an ISO 8601 timestamp, read exactly as the API reads its date parameters."""
    if value is None:
        return None
    try:
        return DateOrDateTimeField().clean(value)
    except forms.ValidationError as exc:
        raise CommandError(f"{option}: {' '.join(exc.messages)}") from None


# --- refusals -----------------------------------------------------------------------------------


@contextmanager
def refusals_as_command_errors() -> Iterator[None]:
    """A service's refusal (400, 403 or 409 in the API) ends the command with its message."""
    try:
        yield
    except (ValidationError, DomainError, PermissionDenied) as exc:
        raise CommandError(error_message(exc)) from None


def serializer_errors(errors: dict[str, Any]) -> str:
    """DRF's ``{"field": ["message", ...]}`` as one line: ``field: message; other: message``."""
    parts = []
    for field, messages in errors.items():
        if isinstance(messages, dict):
            messages = [serializer_errors(messages)]
        text = " ".join(str(message) for message in messages)
        parts.append(text if field in ("non_field_errors", "__all__") else f"{field}: {text}")
    return "; ".join(parts)


# --- list filters: a FilterSet's query parameters as options ---------------------------------------


def _option_of(name: str, filter_) -> str:
    # A user filter takes a username or an id: ``assigned_to_id`` becomes ``--assigned-to USER``.
    if isinstance(filter_, UserIdFilter):
        name = name.removesuffix("_id")
    return "--" + name.replace("_", "-")


def add_filter_arguments(parser, filterset_class: type[django_filters.FilterSet]) -> None:
    """One option per query parameter of the API list, with the parameter's own help."""
    for name, filter_ in filterset_class.base_filters.items():
        help_text = str(filter_.extra.get("help_text") or f"As the API's ?{name}=.")
        metavar = "VALUE"
        if isinstance(filter_, UserIdFilter):
            metavar = "USER"
            help_text += " A username or a user id."
        elif isinstance(filter_, django_filters.ChoiceFilter):
            metavar = name.upper()
            help_text += " One of: " + ", ".join(str(value) for value, _label in filter_.extra["choices"]) + "."
        elif isinstance(filter_, StrictBooleanFilter):
            metavar = "true|false"
        elif isinstance(filter_, DateOrDateTimeFilter):
            metavar = "DATE"
            help_text += " A date (YYYY-MM-DD) or an ISO 8601 timestamp."
        elif isinstance(filter_, django_filters.UUIDFilter):
            metavar = "UUID"
        elif isinstance(filter_, django_filters.NumberFilter):
            metavar = "NUMBER"
        parser.add_argument(_option_of(name, filter_), dest=f"filter_{name}", metavar=metavar, help=help_text)


def filtered(queryset: QuerySet, filterset_class: type[django_filters.FilterSet], options: dict) -> QuerySet:
    """
    ``queryset`` narrowed by the options ``add_filter_arguments`` added, through the API's own
    FilterSet: the same validation (an unknown choice is an error) and the same meaning.
    """
    data: dict[str, Any] = {}
    options_by_name: dict[str, str] = {}
    for name, filter_ in filterset_class.base_filters.items():
        value = options.get(f"filter_{name}")
        if value is None:
            continue
        option = options_by_name[name] = _option_of(name, filter_)
        data[name] = find_user(value, option=option).pk if isinstance(filter_, UserIdFilter) else value
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise CommandError(
            "; ".join(
                f"{options_by_name.get(name, name)}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in filterset.errors.items()
            )
        )
    return filterset.qs


# --- output -------------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value as a table shows it: money with thousands separators, local times, "-" for none."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: str = "") -> str:
    """A plain-text table; numbers are right-aligned, everything else left-aligned."""
    rows = list(rows)
    texts = [[cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in texts:
        widths = [max(width, len(text)) for width, text in zip(widths, row, strict=True)]
    numeric = [
        bool(rows) and all(isinstance(row[i], (int, Decimal)) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(values, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(padded)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in texts)])


def json_text(data: Any, *, indent: bool = True) -> str:
    """JSON encoded by the API's renderer (money as numbers, the same digits), indented for reading."""
    text = dumps(data).decode()
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) if indent else text


@contextmanager
def output_file(path: str | None, default: IO[str]) -> Iterator[IO[str]]:
    """
    ``default`` (stdout) when ``path`` is empty or ``-``; else a UTF-8 file that appears whole
    or not at all: written beside its destination and moved into place once complete.
    """
    if not path or path == "-":
        yield default
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, partial = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=".partial")
    except OSError as exc:
        raise CommandError(f"--output: cannot write to {directory}: {exc.strerror}.") from None
    # mkstemp makes the file readable by its owner only: exports hold customers' contact data.
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException as exc:
        os.unlink(partial)
        if isinstance(exc, OSError):
            raise CommandError(f"--output: cannot write {path}: {exc.strerror}.") from None
        raise


def progress(iterable: Iterable | None = None, *, total: int | None = None, description: str, unit: str = "row"):
    """A progress bar on stderr for long work; shown only on a terminal (not in cron or tests)."""
    return tqdm(
        iterable, total=total, desc=description, unit=unit, file=sys.stderr, disable=None, leave=False, mininterval=0.5
    )


# --- exports ------------------------------------------------------------------------------------


class CsvExportCommand(BaseCommand):
    """
    ``manage.py export_<records>``: an API list as CSV (``core/exports.py``). The list's query
    parameters are options (``--status new``), validated and applied by the API's own FilterSet.
    Subclasses name the list's ``CsvExport``.
    """

    export: CsvExport

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the CSV to FILE, readable by you only (default: standard output). "
            "The file appears only once complete.",
        )
        add_filter_arguments(parser, self.export.filterset_class)
        add_actor_argument(parser)

    def handle(self, *args, **options):
        export = self.export
        actor = actor_from(options)
        records = filtered(export.visible(actor), export.filterset_class, options).order_by(*export.order_by)
        # A reader of stdout that goes away (``export_leads | head``) ends it quietly: manage.py.
        with output_file(options["output"], self.stdout) as stream:
            count = export.write(
                stream, records, each=lambda rows: progress(rows, description=f"Exporting {export.noun_plural}")
            )
        exported = plural(count, export.name, export.noun_plural)
        if options["output"] and options["output"] != "-":
            self.stdout.write(self.style.SUCCESS(f"Exported {exported} to {options['output']}."))
        else:
            # The CSV is on stdout: the summary goes to stderr, uncoloured.
            self.stderr.write(f"Exported {exported}.", style_func=lambda text: text)
