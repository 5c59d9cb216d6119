"""
The leads domain's background jobs: a lead import (``lead_import``) and the lead list's CSV
export (``lead_export``). Registered when the app is ready (``apps.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.auth import get_user_model

from crm_project.core.exports import export_job_kind
from crm_project.core.jobs.registry import JobKind, register
from crm_project.core.jobs.runner import JobFailed, JobRun
from crm_project.core.text import plural
from leads.exports import LEAD_EXPORT
from leads.imports import ImportFileError, LeadImport, count_rows, import_leads, read_lead_file

# Progress (and the runner's heartbeat) every this many rows read: still a few times a second.
# Each report commits an UPDATE of the job; at every 500 rows they took a second of a
# 50,000-row import on a busy host.
PROGRESS_EVERY = 2000


def _reading(run: JobRun, expected: int) -> Callable[[Iterable], Iterator]:
    def each(records: Iterable) -> Iterator:
        for read, record in enumerate(records, start=1):
            if read % PROGRESS_EVERY == 0:
                run.progress(read, expected)
            yield record

    return each


def _row_errors(outcome: LeadImport) -> list[dict[str, Any]]:
    return [
        {"row": row, "field": field, "message": message}
        for row, errors in outcome.problems.items()
        for field, messages in errors.items()
        for message in messages
    ]


def _result(outcome: LeadImport) -> dict[str, Any]:
    numbers = outcome.result.numbers
    return {
        "created": outcome.result.created,
        "rows": outcome.total,
        "valid": outcome.valid,
        "invalid": len(outcome.problems),
        "dry_run": outcome.checked_only,
        "first_lead_number": numbers[0] if numbers else None,
        "last_lead_number": numbers[-1] if numbers else None,
    }


def run_lead_import(run: JobRun) -> None:
    """
    Read and check every row (progress moves), then create the leads in one transaction that
    also marks the job done: a worker killed before it commits leaves no lead behind, and the
    job's next run imports every row once.
    """
    params = run.params
    assignee_id = params.get("assign_to_id")
    assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first() if assignee_id else None
    with run.job.input_file.open("rb") as raw:
        expected = count_rows(raw)
        run.progress(0, expected)
        try:
            lead_file = read_lead_file(raw, default_assignee=assignee, each=_reading(run, expected))
        except ImportFileError as refused:
            raise JobFailed(
                refused.message, errors=[{"row": None, "field": "file", "message": refused.message}]
            ) from None
    run.progress(lead_file.total, lead_file.total)
    skip_invalid = bool(params.get("skip_invalid"))
    with run.completing() as finish:
        outcome = import_leads(
            actor=run.actor, lead_file=lead_file, dry_run=bool(params.get("dry_run")), skip_invalid=skip_invalid
        )
        if outcome.problems and not skip_invalid and not params.get("dry_run"):
            invalid = len(outcome.problems)
            raise JobFailed(
                f"Nothing imported: {invalid:,} of {plural(outcome.total, 'row')} "
                f"{'is' if invalid == 1 else 'are'} invalid (see errors). Fix them, or import with skip_invalid.",
                errors=_row_errors(outcome),
                result=_result(outcome),
            )
        finish(result=_result(outcome), errors=_row_errors(outcome), done=lead_file.total)


def register_jobs() -> None:
    register(JobKind(name="lead_import", label="Lead import", run=run_lead_import, history_source="import"))
    register(export_job_kind(LEAD_EXPORT))
