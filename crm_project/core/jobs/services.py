"""
Asking for background work, cancelling it, and handing it over. Invariants guarded here:

- a job is a row first, written in the caller's transaction: a rolled-back change asks for
  nothing, and a committed one is never lost, whatever the broker does;
- a job with a ``key`` exists at most once (a unique column): asking twice for the same unit
  of work (the digest of one rep on one day) returns the first job;
- a job is handed to a worker only after the transaction that asked for it commits; a hand-over
  that fails (the broker is down) is repeated by ``dispatch_due_jobs``, which also restarts
  jobs whose worker died;
- only its owner or a manager cancels a job (others do not see it); a finished job cannot be
  cancelled (409); a queued one ends at once, a running one at its next progress report.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm_project.core import broker
from crm_project.core.exceptions import Conflict
from crm_project.core.models import FINISHED_JOB_STATUSES, Job, JobStatus
from crm_project.core.services import lock_for_update

from .registry import kind_of
from .runner import run_job

logger = logging.getLogger("crm.jobs")

# A queued job younger than this was just handed over after its commit: not yet due for a resend.
HAND_OVER_GRACE = timedelta(seconds=30)


def broker_state() -> str:
    """ "ok" when the broker answers, "unavailable" when it does not, "inline" when there is none."""
    if not broker.broker_configured():
        return "inline"
    return "ok" if broker.ping() else "unavailable"


def job_create(
    *,
    kind: str,
    owner=None,
    params: dict[str, Any] | None = None,
    key: str | None = None,
    total: int | None = None,
    input_file: File | None = None,
) -> Job:
    """Ask for a job of ``kind``; it starts once the caller's transaction commits."""
    kind_of(kind)  # An unknown kind is a programming error, refused before anything is written.
    if key is not None:
        existing = Job.objects.filter(key=key).first()
        if existing is not None:
            return existing
    job = Job(kind=kind, owner=owner if getattr(owner, "pk", None) else None, params=params or {}, key=key, total=total)
    if input_file is not None:
        job.input_file.save(input_file.name, input_file, save=False)
    try:
        # The savepoint lets the caller's transaction go on when a concurrent ask took the key.
        with transaction.atomic():
            job.save()
    except IntegrityError:
        if key is None:
            raise
        return Job.objects.get(key=key)
    # After commit: a worker must find the row when it looks, and a rollback asks for nothing.
    transaction.on_commit(partial(dispatch, job.pk), robust=True)
    return job


def dispatch(job_id) -> None:
    """Hand a job to a worker through the broker, or run it here when there is none."""
    if not broker.broker_configured():
        run_job(job_id)
        return
    try:
        # The task by name: the task module imports this one.
        broker.send("crm_project.core.tasks.run_job_task", [(str(job_id),)])
    except Exception:
        logger.warning("Broker unavailable: job %s waits for the next dispatch of due jobs", job_id, exc_info=True)


def due_job_ids(*, now=None) -> list:
    """Jobs to hand over (again): queued and due but not just handed over, or running with a dead worker."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    due = Job.objects.filter(
        Q(status=JobStatus.QUEUED, run_after__lte=now, created_at__lte=now - HAND_OVER_GRACE)
        | Q(status=JobStatus.QUEUED, run_after__lte=now, attempts__gt=0)
        | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
    )
    return list(due.order_by("run_after").values_list("pk", flat=True))


def dispatch_due_jobs(*, now=None) -> int:
    """Hand over every due job again (run each minute by beat, or by ``manage.py run_due_work``)."""
    ids = due_job_ids(now=now)
    for job_id in ids:
        dispatch(job_id)
    return len(ids)


@transaction.atomic
def job_cancel(*, actor, job: Job) -> Job:
    # Locked, so that the check and the change are one step against a runner finishing it.
    job = lock_for_update(job)
    if job.status in FINISHED_JOB_STATUSES:
        raise Conflict(f"This job has {job.status} already; only a queued or running job can be cancelled.")
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
    job.cancel_requested = True
    job.save(update_fields=["status", "finished_at", "cancel_requested"])
    return job


def prune_finished_jobs(*, older_than: timedelta | None = None) -> int:
    """Delete finished jobs (and their files) that ended more than ``JOB_RETENTION_DAYS`` ago."""
    cutoff = timezone.now() - (older_than or timedelta(days=settings.JOB_RETENTION_DAYS))
    old = Job.objects.filter(status__in=FINISHED_JOB_STATUSES, finished_at__lt=cutoff)
    deleted = 0
    for job in old.iterator():
        for stored in (job.input_file, job.output_file):
            if stored:
                stored.delete(save=False)
        job.delete()
        deleted += 1
    return deleted
