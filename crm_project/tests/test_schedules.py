"""
Work that runs on its own: the default schedules kept in the database, ``manage.py run_due_work``
running what is due without a broker, the nightly refresh of auto-refreshed segments, and the
admin's Jobs page.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from communications.tests.factories import CommunicationFactory
from crm_project.core.models import Job, JobStatus
from crm_project.core.schedules import run_due_schedules
from crm_project.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from segments.models import SegmentMembership
from segments.services import segment_refresh_start
from segments.tests.factories import SegmentFactory

pytestmark = pytest.mark.django_db

SCHEDULES = {
    "Morning follow-up digest": "communications.tasks.send_follow_up_digests",
    "Refresh auto-refreshed segments": "segments.tasks.refresh_auto_segments",
    "Hand over due jobs": "crm_project.core.tasks.dispatch_due_jobs",
    "Prune expired records": "crm_project.core.tasks.prune_expired",
}


def test_the_default_schedules_are_in_the_database():
    tasks = dict(PeriodicTask.objects.filter(name__in=SCHEDULES).values_list("name", "task"))
    assert tasks == SCHEDULES
    digest = PeriodicTask.objects.get(name="Morning follow-up digest")
    assert (digest.crontab.hour, digest.crontab.minute, digest.crontab.day_of_week) == ("7", "0", "1-5")
    assert str(digest.crontab.timezone) == "UTC"
    assert PeriodicTask.objects.get(name="Hand over due jobs").interval.every == 60


def schedule_last_ran(name: str, at: dt.datetime) -> None:
    PeriodicTask.objects.filter(name=name).update(last_run_at=at)


@pytest.fixture
def only_the_digest_is_enabled():
    PeriodicTask.objects.exclude(name="Morning follow-up digest").update(enabled=False)


def test_a_due_schedule_runs_once_without_a_broker(only_the_digest_is_enabled, django_capture_on_commit_callbacks):
    rep = UserFactory(username="ravi", email="ravi@example.com", role="sales_rep")
    CommunicationFactory(our_representative=rep, requires_follow_up=True, follow_up_date=timezone.now())
    schedule_last_ran("Morning follow-up digest", timezone.now() - dt.timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_schedules() == ["Morning follow-up digest"]
    assert [message.to for message in mail.outbox] == [["ravi@example.com"]]
    # Just ran: not due again until the next morning.
    assert run_due_schedules() == []
    assert PeriodicTask.objects.get(name="Morning follow-up digest").total_run_count == 1


def test_a_schedule_that_never_ran_starts_counting_from_now(only_the_digest_is_enabled):
    schedule_last_ran("Morning follow-up digest", None)
    assert run_due_schedules() == []
    assert PeriodicTask.objects.get(name="Morning follow-up digest").last_run_at is not None


def test_run_due_work_says_what_it_ran(only_the_digest_is_enabled):
    out = StringIO()
    call_command("run_due_work", stdout=out)
    assert out.getvalue().strip() == "Ran 0 schedules; handed over 0 jobs."


# --- the nightly segment refresh ----------------------------------------------------------------


def test_the_nightly_refresh_applies_the_criteria_of_auto_refreshed_segments_only(django_capture_on_commit_callbacks):
    mumbai = CustomerFactory(city="Mumbai")
    auto = SegmentFactory(code="AUTO", criteria={"city": "Mumbai"}, auto_refresh=True)
    manual = SegmentFactory(code="MANUAL", criteria={"city": "Mumbai"}, auto_refresh=False)
    no_criteria = SegmentFactory(code="NOCRIT", criteria={}, auto_refresh=True)

    with django_capture_on_commit_callbacks(execute=True):
        job = segment_refresh_start(day=dt.date(2025, 12, 15))
    job.refresh_from_db()

    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"segments": 2, "customers_added": 1, "skipped": ["NOCRIT"]}
    assert SegmentMembership.objects.filter(segment=auto, customer=mumbai).exists()
    assert not SegmentMembership.objects.filter(segment=manual).exists()
    assert not SegmentMembership.objects.filter(segment=no_criteria).exists()
    auto.refresh_from_db()
    assert auto.customer_count == 1


def test_the_refresh_is_asked_for_once_a_day():
    first = segment_refresh_start(day=dt.date(2025, 12, 15))
    again = segment_refresh_start(day=dt.date(2025, 12, 15))
    assert first.pk == again.pk
    assert segment_refresh_start(day=dt.date(2025, 12, 16)).pk != first.pk


def test_managers_mark_a_segment_for_the_nightly_refresh(manager_client):
    segment = SegmentFactory()
    response = manager_client.patch(f"/api/v1/crm/segments/{segment.pk}", {"auto_refresh": True}, format="json")
    assert response.status_code == 200 and response.json()["auto_refresh"] is True


# --- the admin's Jobs page -----------------------------------------------------------------------------


def test_the_jobs_page_shows_progress_and_a_rep_sees_only_their_own(client, rep, other_rep, manager):
    Job.objects.create(kind="lead_export", owner=rep, status=JobStatus.RUNNING, done=250, total=1000)
    Job.objects.create(kind="lead_export", owner=other_rep, status=JobStatus.SUCCEEDED)
    client.force_login(rep)
    page = client.get("/admin/core/job/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Export of leads" in text
    assert '<progress class="crm-progress" value="250" max="1000"></progress> 250 of 1,000 (25%)' in text
    assert text.count("crm-badge--job-") == 1  # Only the rep's own job.
    client.force_login(manager)
    assert manager_page_rows(client) == 2


def manager_page_rows(client) -> int:
    return client.get("/admin/core/job/").content.decode().count("crm-badge--job-")


def test_the_jobs_page_cancels_through_the_service(client, manager):
    waiting = Job.objects.create(kind="lead_export", owner=manager)
    done = Job.objects.create(kind="lead_export", owner=manager, status=JobStatus.SUCCEEDED)
    client.force_login(manager)
    response = client.post(
        "/admin/core/job/", {"action": "cancel_jobs", "_selected_action": [waiting.pk, done.pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "1 job cancelled." in messages
    assert any(message.startswith("Not cancelled: lead_export: This job has succeeded already") for message in messages)
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.CANCELLED
