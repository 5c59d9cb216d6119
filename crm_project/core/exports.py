"""
An API list as a CSV file, one definition per list, used by ``manage.py export_<records>`` and
by the export jobs of the API (``POST /api/v1/crm/<records>/export``).

The rows are exactly what the asker's list shows: their visibility selector, narrowed by the
list's own FilterSet with the list's query parameters. They stream from the database in chunks
(a server-side cursor on PostgreSQL), so memory stays flat whatever the table's size.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models import QuerySet
from django.utils import timezone

from crm_project.core.csvfiles import write_csv
from crm_project.core.jobs.registry import JobKind
from crm_project.core.jobs.runner import JobRun
from crm_project.core.jobs.services import job_create
from crm_project.core.models import Job

# Rows fetched per round trip while streaming (a server-side cursor on PostgreSQL).
EXPORT_CHUNK_SIZE = 2000
# An export job reports its progress (and its heartbeat) every this many rows.
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class CsvExport:
    """What one list exports: its records, filters, columns, and how a record becomes a row."""

    name: str  # "lead": the job kind is "lead_export", the file "leads-<date>.csv"
    noun_plural: str
    filterset_class: type[django_filters.FilterSet]
    columns: Sequence[str]
    visible: Callable[[Any], QuerySet]
    row: Callable[[Any], Sequence[Any]]
    # Oldest first: a file reads as a ledger, and an import numbers rows in that order.
    order_by: tuple[str, ...] = ("created_at", "id")

    @property
    def job_kind(self) -> str:
        return f"{self.name}_export"

    def records(self, actor, filters: Mapping[str, Any]) -> QuerySet:
        """The asker's list with the list's query parameters; a bad one is a ValidationError naming it."""
        filterset = self.filterset_class(data=dict(filters), queryset=self.visible(actor))
        if not filterset.is_valid():
            raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
        return filterset.qs.order_by(*self.order_by)

    def write(self, stream, records: QuerySet, *, each: Callable[[Iterable], Iterable] | None = None) -> int:
        """Write the CSV of ``records`` to ``stream``; ``each`` may wrap the rows (a progress bar)."""
        rows: Iterable = (self.row(record) for record in records.iterator(chunk_size=EXPORT_CHUNK_SIZE))
        return write_csv(stream, self.columns, each(rows) if each else rows)

    def file_name(self) -> str:
        return f"{self.noun_plural}-{timezone.localtime():%Y-%m-%d-%H%M%S}.csv"


def _reporting(run: JobRun, total: int) -> Callable[[Iterable], Iterator]:
    def each(rows: Iterable) -> Iterator:
        for done, row in enumerate(rows, start=1):
            if done % PROGRESS_EVERY == 0:
                run.progress(done, total)
            yield row

    return each


def export_job_kind(export: CsvExport) -> JobKind:
    """The job that writes ``export`` for its asker into a file to download."""

    def run(run: JobRun) -> dict[str, Any]:
        records = export.records(run.actor, run.params.get("filters", {}))
        total = records.count()
        run.progress(0, total)
        # Written to a temporary file first, then stored: the stored file appears only complete.
        with tempfile.TemporaryFile() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            count = export.write(text, records, each=_reporting(run, total))
            text.flush()
            raw.seek(0)
            run.store_output(export.file_name(), File(raw))
            text.detach()
        run.progress(count, count)
        return {"rows": count}

    return JobKind(name=export.job_kind, label=f"Export of {export.noun_plural}", run=run, produces_file=True)


# Query parameters of a list that are not filters: an export holds the whole filtered list, oldest first.
NOT_FILTERS = {"page", "page_size", "ordering", "cursor"}


def export_start(*, actor, export: CsvExport, query: Mapping[str, Any]) -> Job:
    """
    Ask for the CSV of ``actor``'s list filtered by ``query`` (the list's query parameters): the
    filters are checked now (a bad one is a 400 naming it) and the file is written by a job.
    """
    filters = {name: value for name, value in query.items() if name not in NOT_FILTERS}
    export.records(actor, filters)  # Validates; the query itself runs in the job.
    return job_create(kind=export.job_kind, owner=actor, params={"filters": filters})
