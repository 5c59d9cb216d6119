"""
Running one job: at most one runner at a time, and never twice to completion.

A runner first takes the job's lease: one conditional UPDATE that succeeds only for a job that
is queued and due, or running with a heartbeat older than ``JOB_STALE_SECONDS`` (its worker
died). Whoever loses that race, or finds the job finished, does nothing: a task delivered twice
runs once. Every later write of the runner (progress, the result) is conditional on still
holding the lease, so a runner that was presumed dead and replaced cannot finish the job too.

A job whose work must commit exactly once (an import) does its final writes inside
``JobRun.completing()``: they and the job's success commit in one transaction, under a lock
on the job row that proves the lease is still held. A worker killed before that commit leaves
nothing behind, and the job is run again from the start.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm_project.core.history import change_context
from crm_project.core.models import Job, JobStatus
from crm_project.core.roles import system_actor

from .registry import kind_of

logger = logging.getLogger("crm.jobs")

# A failed attempt waits this long before the next, doubling each time.
FIRST_RETRY_DELAY = timedelta(seconds=30)


class JobCancelled(Exception):
    """The job's cancellation was asked for; the runner stops and nothing it had not committed stays."""


class JobFailed(Exception):
    """
    The work cannot be done as asked (a file that is not CSV, rows that are invalid): the job
    fails at once, with its reasons, and is not tried again.
    """

    def __init__(self, message: str, *, errors: list[dict] | None = None, result: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.result = result


class LeaseLost(Exception):
    """Another runner took the job over (this one was presumed dead); this one stops."""


@dataclass
class JobRun:
    """What a job's kind gets to do its work: the job, its asker, progress, cancellation, completion."""

    job: Job
    token: uuid.UUID
    completed: bool = field(default=False, init=False)

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def actor(self):
        """Who the work is done for: the asker, with their record access; the system for scheduled work."""
        if self.job.owner_id is None:
            return system_actor()
        return get_user_model().objects.get(pk=self.job.owner_id)

    def _mine(self):
        return Job.objects.filter(pk=self.job.pk, lease=self.token, status=JobStatus.RUNNING)

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress (also the runner's heartbeat); stop here if the job was cancelled or taken over."""
        changes: dict[str, Any] = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            changes["total"] = total
        if self._mine().filter(cancel_requested=False).update(**changes):
            return
        if self._mine().exists():
            raise JobCancelled()
        raise LeaseLost()

    def store_output(self, name: str, content: File) -> None:
        """Store the job's output file (an export) and note it on the job, while this runner holds it."""
        field = self.job.output_file
        field.save(name, content, save=False)
        if not self._mine().update(output_file=field.name, heartbeat_at=timezone.now()):
            field.delete(save=False)
            raise LeaseLost()

    @contextmanager
    def completing(self) -> Iterator[Callable[..., None]]:
        """
        A transaction whose writes commit together with the job's success, or not at all:
        ``with run.completing() as finish: <final writes>; finish(result=..., errors=...)``.
        """
        outcome: dict[str, Any] = {}

        def finish(*, result: dict[str, Any] | None = None, errors: list | None = None, done: int | None = None):
            outcome.update(result=result, errors=errors or [], done=done)

        with transaction.atomic():
            # Locked, so that no other runner can take the job over until this commits.
            job = Job.objects.select_for_update().get(pk=self.job.pk)
            if job.lease != self.token or job.status != JobStatus.RUNNING:
                raise LeaseLost()
            if job.cancel_requested:
                raise JobCancelled()
            yield finish
            changes = {
                "status": JobStatus.SUCCEEDED,
                "result": outcome.get("result"),
                "errors": outcome.get("errors", []),
                "finished_at": timezone.now(),
                "lease": None,
            }
            if outcome.get("done") is not None:
                changes["done"] = outcome["done"]
            Job.objects.filter(pk=job.pk).update(**changes)
        self.completed = True


def _claim(job_id, token: uuid.UUID) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    # One conditional UPDATE: of two runners racing for the job, the database lets one win.
    return bool(
        Job.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED, run_after__lte=now, cancel_requested=False)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=JobStatus.RUNNING,
            lease=token,
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), now),
            attempts=F("attempts") + 1,
        )
    )


def _finish(job: Job, token: uuid.UUID, **changes: Any) -> None:
    changes.setdefault("finished_at", timezone.now())
    if not Job.objects.filter(pk=job.pk, lease=token).update(lease=None, **changes):
        logger.warning("Job %s was taken over by another runner before it finished here", job.pk)


def run_job(job_id) -> str:
    """
    Run the job if it is due and nobody runs it; return what happened: "succeeded", "failed",
    "retrying", "cancelled", "taken over", or "skipped" (finished, running elsewhere, not due).
    """
    token = uuid.uuid4()
    if not _claim(job_id, token):
        return "skipped"
    job = Job.objects.select_related(None).get(pk=job_id)
    kind = kind_of(job.kind)
    run = JobRun(job=job, token=token)
    logger.info("Running %s job %s (attempt %s)", job.kind, job.pk, job.attempts)
    try:
        # The job's changes are recorded as the job's (an import's, a task's), not its asker's request.
        with change_context(source=kind.history_source, request_id=f"job:{job.pk}"):
            result = kind.run(run)
    except JobCancelled:
        _finish(job, token, status=JobStatus.CANCELLED)
        return "cancelled"
    except LeaseLost:
        logger.warning("Job %s: another runner took it over; this run stops", job.pk)
        return "taken over"
    except JobFailed as refusal:
        _finish(
            job, token, status=JobStatus.FAILED, failure=refusal.message, errors=refusal.errors, result=refusal.result
        )
        return "failed"
    except Exception as exc:
        logger.exception("Job %s (%s) failed on attempt %s", job.pk, job.kind, job.attempts)
        if job.attempts < kind.max_attempts:
            delay = FIRST_RETRY_DELAY * 2 ** (job.attempts - 1)
            _finish(job, token, status=JobStatus.QUEUED, run_after=timezone.now() + delay, finished_at=None)
            return "retrying"
        _finish(job, token, status=JobStatus.FAILED, failure=f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    if not run.completed:
        _finish(job, token, status=JobStatus.SUCCEEDED, result=result)
    return "succeeded"
