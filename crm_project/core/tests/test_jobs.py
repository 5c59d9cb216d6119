"""
The job engine: a job is a row written with the change that asks for it, handed over after
commit, run under a lease (once, however often delivered), with progress, cancellation,
retries, and a last write that commits together with the job's success.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from crm_project.core.exceptions import Conflict
from crm_project.core.jobs import registry, runner, services
from crm_project.core.jobs.registry import JobKind
from crm_project.core.models import Job, JobStatus, RateCounter
from crm_project.core.tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db


@pytest.fixture
def kinds(monkeypatch):
    """Register job kinds for one test: ``kinds(name=run, ...)``; each records its calls."""
    calls: list[str] = []

    def register(**runs):
        for name, run in runs.items():

            def recorded(job_run, run=run, name=name):
                calls.append(name)
                return run(job_run)

            monkeypatch.setitem(registry._KINDS, name, JobKind(name=name, label=name, run=recorded))
        return calls

    return register


def queued(kind: str, **fields) -> Job:
    return Job.objects.create(kind=kind, **fields)


# --- asking --------------------------------------------------------------------------------------


def test_a_job_runs_once_the_transaction_that_asked_for_it_commits(kinds, django_capture_on_commit_callbacks):
    calls = kinds(work=lambda run: {"answer": 42})
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = services.job_create(kind="work", params={"n": 1})
        assert calls == []
    job.refresh_from_db()
    assert calls == ["work"]
    assert (job.status, job.result, job.attempts) == (JobStatus.SUCCEEDED, {"answer": 42}, 1)
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_a_rolled_back_change_asks_for_no_job(kinds, django_capture_on_commit_callbacks):
    calls = kinds(work=lambda run: None)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.job_create(kind="work")
        raise RuntimeError("rolled back")
    assert calls == [] and not Job.objects.exists()


def test_asking_twice_for_a_keyed_unit_of_work_returns_the_first_job(kinds):
    kinds(work=lambda run: None)
    first = services.job_create(kind="work", key="work:2025-12-15")
    second = services.job_create(kind="work", key="work:2025-12-15")
    assert first.pk == second.pk and Job.objects.count() == 1


def test_an_unknown_kind_is_refused_before_anything_is_written():
    with pytest.raises(LookupError):
        services.job_create(kind="no-such-kind")
    assert not Job.objects.exists()


def test_with_the_broker_down_the_job_waits_in_the_database(kinds, settings, django_capture_on_commit_callbacks):
    calls = kinds(work=lambda run: None)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # Nothing listens there.
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(kind="work")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and calls == []
    # The broker back (here: none, so the dispatch runs it in this process).
    settings.CELERY_BROKER_URL = ""
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert services.dispatch_due_jobs() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and calls == ["work"]


# --- running once ----------------------------------------------------------------------------------


def test_a_second_delivery_of_a_finished_job_does_nothing(kinds):
    calls = kinds(work=lambda run: None)
    job = queued("work")
    assert runner.run_job(job.pk) == "succeeded"
    assert runner.run_job(job.pk) == "skipped"
    assert calls == ["work"]


def test_a_delivery_while_another_runner_holds_the_job_does_nothing(kinds):
    calls = kinds(work=lambda run: None)
    job = queued("work", status=JobStatus.RUNNING, lease=uuid.uuid4(), heartbeat_at=timezone.now())
    assert runner.run_job(job.pk) == "skipped"
    assert calls == []


def test_a_job_whose_runner_went_silent_is_taken_over(kinds, settings):
    calls = kinds(work=lambda run: {"ok": True})
    settings.JOB_STALE_SECONDS = 60
    silent = timezone.now() - dt.timedelta(seconds=61)
    job = queued("work", status=JobStatus.RUNNING, lease=uuid.uuid4(), heartbeat_at=silent, attempts=1)
    assert job.pk in services.due_job_ids()
    assert runner.run_job(job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.attempts, calls) == (JobStatus.SUCCEEDED, 2, ["work"])


def test_a_runner_that_was_replaced_cannot_finish_the_job(kinds):
    def replaced_meanwhile(run):
        # Another runner takes the job over while this one works.
        Job.objects.filter(pk=run.job.pk).update(lease=uuid.uuid4())
        run.progress(1)

    kinds(work=replaced_meanwhile)
    job = queued("work")
    assert runner.run_job(job.pk) == "taken over"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # Left to the runner that holds it.


def test_completing_commits_the_work_with_the_jobs_success_or_neither(kinds):
    def work(run):
        with run.completing() as finish:
            RateCounter.objects.create(key="made-by-the-job", window_start=0, expires_at=0)
            finish(result={"made": 1})

    def work_then_lose_the_lease(run):
        Job.objects.filter(pk=run.job.pk).update(lease=uuid.uuid4())
        with run.completing():
            RateCounter.objects.create(key="must-not-stay", window_start=0, expires_at=0)

    kinds(work=work, lost=work_then_lose_the_lease)
    done, lost = queued("work"), queued("lost")
    assert runner.run_job(done.pk) == "succeeded"
    assert runner.run_job(lost.pk) == "taken over"
    done.refresh_from_db()
    assert done.result == {"made": 1}
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["made-by-the-job"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_many_concurrent_deliveries_one_runs_the_job(kinds):
    entered = []
    lock = threading.Lock()

    def slow(run):
        with lock:
            entered.append(run.token)
        return None

    kinds(work=slow)
    job = queued("work")
    outcomes, errors = run_concurrently(lambda: runner.run_job(job.pk), threads=6)
    assert errors == []
    assert sorted(outcomes) == ["skipped"] * 5 + ["succeeded"]
    assert len(entered) == 1


# --- failure, retries, cancellation --------------------------------------------------------------


def test_a_failure_is_tried_again_later_then_fails_for_good(kinds):
    def broken(run):
        raise OSError("mail server refused")

    calls = kinds(work=broken)
    job = queued("work")
    assert runner.run_job(job.pk) == "retrying"
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.run_after > timezone.now()
    assert runner.run_job(job.pk) == "skipped"  # Not due yet.
    for _attempt in range(2):
        Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
        runner.run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, len(calls)) == (JobStatus.FAILED, 3, 3)
    assert job.failure == "OSError: mail server refused"


def test_a_refused_job_fails_at_once_with_its_reasons(kinds):
    def refused(run):
        raise runner.JobFailed("Nothing imported", errors=[{"row": 3, "field": "email", "message": "Taken."}])

    calls = kinds(work=refused)
    job = queued("work")
    assert runner.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.failure, job.errors, calls) == (
        JobStatus.FAILED,
        "Nothing imported",
        [{"row": 3, "field": "email", "message": "Taken."}],
        ["work"],
    )


def test_a_queued_job_cancelled_never_runs(kinds, manager):
    calls = kinds(work=lambda run: None)
    job = queued("work")
    cancelled = services.job_cancel(actor=manager, job=job)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.finished_at is not None
    assert runner.run_job(job.pk) == "skipped" and calls == []


def test_a_running_job_stops_at_its_next_progress_report_when_cancelled(kinds, manager):
    def long(run):
        services.job_cancel(actor=manager, job=run.job)  # Asked for while it runs.
        run.progress(10, 100)
        raise AssertionError("not reached")

    kinds(work=long)
    job = queued("work")
    assert runner.run_job(job.pk) == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_a_finished_job_cannot_be_cancelled(manager):
    job = queued("work", status=JobStatus.SUCCEEDED)
    with pytest.raises(Conflict):
        services.job_cancel(actor=manager, job=job)


# --- housekeeping --------------------------------------------------------------------------------


def test_finished_jobs_past_their_retention_are_deleted_with_their_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.JOB_RETENTION_DAYS = 14
    old = queued("work", status=JobStatus.SUCCEEDED, finished_at=timezone.now() - dt.timedelta(days=15))
    old.output_file.save("old.csv", ContentFile(b"a,b\n"))
    recent = queued("work", status=JobStatus.SUCCEEDED, finished_at=timezone.now() - dt.timedelta(days=13))
    running = queued("work", status=JobStatus.RUNNING)
    stored = tmp_path / old.output_file.name
    assert stored.exists()

    assert services.prune_finished_jobs() == 1

    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not stored.exists()
