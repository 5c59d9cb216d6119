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
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.core.files.base import ContentFile
from django.db import connection

from crm_project.core.jobs.services import dispatch_due_jobs
from crm_project.core.models import Job, JobStatus
from crm_project.core.tests.factories import ManagerFactory
from leads.lead_csv import COLUMNS
from leads.models import Lead
from leads.services import lead_import_start

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
STALE_SECONDS = 3

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(settings, tmp_path):
    """The real Redis as the broker, on a queue of this test's own; shared files in a temporary media root."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts one)")
    queue = f"crm-test-{uuid.uuid4().hex[:12]}"
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.JOB_STALE_SECONDS = STALE_SECONDS
    settings.MEDIA_ROOT = tmp_path
    yield queue
    client.delete(queue)


class Worker:
    """A ``celery worker`` process on the test database and the test's queue."""

    def __init__(self, queue: str, media_root: Path):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "JOB_STALE_SECONDS": str(STALE_SECONDS),
            "MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        }
        command = [sys.executable, "-m", "celery", "-A", "crm_project", "worker", "--loglevel=INFO"]
        command += ["--concurrency=2", "-Q", queue, "--without-gossip", "--without-mingle", "-n", f"{queue}@%h"]
        # Its own process group: the worker and its pool's children are stopped together.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        self.ready = threading.Event()
        self.log: list[str] = []
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("The worker did not start:\n" + "".join(self.log[-30:]))

    def _read_log(self) -> None:
        for line in iter(self.process.stderr.readline, b""):
            text = line.decode(errors="replace")
            self.log.append(text)
            if " ready." in text:
                self.ready.set()

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: no warm shutdown, nothing acknowledged on the way out."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(broker, settings):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(broker, Path(settings.MEDIA_ROOT))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}")


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
