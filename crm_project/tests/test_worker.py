"""
Background work with real parts: a real Redis on loopback as the broker and real
``celery worker`` processes, started by the test and stopped by their own process group.

- A job asked for by the API's code is run by a worker process; through the API, an import and
  an export are followed at /api/v1/jobs and the export downloaded.
- A worker killed (SIGKILL) in the middle of an import, then a new one started: the import
  finishes once, every row imported exactly once.
- The same job delivered twice at once: done once.

PostgreSQL only: the workers are other processes, which see only committed rows.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.base import ContentFile

from crm_project.core.jobs.services import dispatch_due_jobs
from crm_project.core.models import Job, JobStatus
from crm_project.core.tests.factories import ManagerFactory
from crm_project.core.tests.workers import REDIS_URL, wait_for
from leads.lead_csv import COLUMNS
from leads.models import Lead
from leads.services import lead_import_start

STALE_SECONDS = 3

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def stale_soon(settings, worker_env):
    """A dead worker's job is taken to be lost after a few seconds, here and in the workers."""
    settings.JOB_STALE_SECONDS = STALE_SECONDS
    worker_env["JOB_STALE_SECONDS"] = str(STALE_SECONDS)


def lead_file(rows: int) -> ContentFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n in range(rows):
        writer.writerow([f"Company {n}", f"Buyer {n}", f"buyer{n}@import.example"] + [""] * (len(COLUMNS) - 3))
    return ContentFile(out.getvalue().encode(), name="leads.csv")


def job_state(job_id) -> Job:
    return Job.objects.get(pk=job_id)


def test_a_job_asked_for_by_the_web_is_run_by_a_worker_process(workers):
    workers()
    manager = ManagerFactory(username="importer")
    job = lead_import_start(actor=manager, upload=lead_file(20))  # Not in a transaction: handed over at once.
    done = wait_for(lambda: job_state(job.pk).is_finished, timeout=60, what="the import")
    assert done
    job = job_state(job.pk)
    assert (job.status, job.result["created"]) == (JobStatus.SUCCEEDED, 20)
    assert Lead.objects.count() == 20


def test_a_worker_killed_mid_import_and_a_new_one_import_every_row_exactly_once(workers):
    rows = 20_000
    first = workers()
    manager = ManagerFactory(username="importer")
    job = lead_import_start(actor=manager, upload=lead_file(rows))
    # Killed while it reads and checks the rows (progress moving, nothing written yet).
    wait_for(lambda: job_state(job.pk).done >= 1000, timeout=90, what="the import to get going")
    first.kill()
    interrupted = job_state(job.pk)
    assert interrupted.status == JobStatus.RUNNING and not interrupted.is_finished
    assert Lead.objects.count() == 0

    workers()
    time.sleep(STALE_SECONDS + 0.5)  # The dead worker's heartbeat goes stale.
    assert dispatch_due_jobs() >= 1  # What beat does each minute.
    wait_for(lambda: job_state(job.pk).is_finished, timeout=180, what="the import to finish")

    job = job_state(job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.failure
    assert job.attempts == 2
    assert job.result["created"] == rows
    assert Lead.objects.count() == rows
    assert Lead.objects.values("email").distinct().count() == rows
    assert Lead.objects.values("lead_number").distinct().count() == rows


def test_a_job_delivered_twice_at_once_is_done_once(workers, settings):
    workers()
    from crm_project.celery import app

    manager = ManagerFactory(username="importer")
    # Asked for with the hand-over held back, then handed over twice at the same moment.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    job = lead_import_start(actor=manager, upload=lead_file(500))
    settings.CELERY_BROKER_URL = REDIS_URL
    with app.connection_for_write(url=REDIS_URL) as broker_connection:
        for _delivery in range(2):
            app.send_task(
                "crm_project.core.tasks.run_job_task",
                args=(str(job.pk),),
                connection=broker_connection,
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            )
    wait_for(lambda: job_state(job.pk).is_finished, timeout=60, what="the import")
    time.sleep(2)  # Let the second delivery run too.

    job = job_state(job.pk)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert Lead.objects.count() == 500


def test_through_the_api_an_import_and_an_export_are_run_by_the_worker(workers, client_for):
    workers()
    api = client_for(ManagerFactory(username="api-manager"))
    file = lead_file(300)
    response = api.post("/api/v1/crm/leads/import", {"file": file}, format="multipart")
    assert response.status_code == 202
    job_url = f"/api/v1/jobs/{response.json()['id']}"
    # The web process answers at once; the worker does the import.
    seen = wait_for(lambda: api.get(job_url).json()["status"] in {"succeeded", "failed"}, timeout=60, what="import")
    assert seen
    imported = api.get(job_url).json()
    assert (imported["status"], imported["result"]["created"]) == ("succeeded", 300)
    assert imported["progress"]["done"] == 300

    export = api.post("/api/v1/crm/leads/export?search=Company%201")
    assert export.status_code == 202
    export_url = f"/api/v1/jobs/{export.json()['id']}"
    wait_for(lambda: api.get(export_url).json()["status"] == "succeeded", timeout=60, what="export")
    download = api.get(api.get(export_url).json()["download_url"])
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert len(rows) == Lead.objects.filter(company_name__icontains="Company 1").count() > 0
