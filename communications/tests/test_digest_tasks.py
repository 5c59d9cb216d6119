"""
The morning digest as background work: the schedule asks for one job per representative, the
jobs start only once the transaction that asked for them commits (never for one that rolls
back), asking twice for a day asks for nothing more, and each job e-mails one representative.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from communications import services
from crm_project.core.models import Job, JobStatus
from crm_project.core.tests.factories import UserFactory

from .factories import CommunicationFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)
DUE = dt.datetime(2025, 3, 10, 15, tzinfo=dt.UTC)


@pytest.fixture
def reps_with_follow_ups():
    ravi = UserFactory(username="ravi", email="ravi@example.com", role="sales_rep")
    riya = UserFactory(username="riya", email="riya@example.com", role="sales_rep")
    no_address = UserFactory(username="nomail", email="", role="sales_rep")
    for user in (ravi, riya, no_address):
        CommunicationFactory(our_representative=user, requires_follow_up=True, follow_up_date=DUE)
    return ravi, riya


def test_digests_leave_only_once_the_transaction_commits(reps_with_follow_ups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as handed_over, transaction.atomic():
        assert services.follow_up_digests_enqueue(day=DAY) == 2
        assert mail.outbox == []  # Asked for, not sent: the transaction is still open.

    assert len(handed_over) == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["ravi@example.com", "riya@example.com"]
    assert set(Job.objects.values_list("kind", "status")) == {("follow_up_digest", JobStatus.SUCCEEDED)}


def test_a_rolled_back_transaction_asks_for_nothing(reps_with_follow_ups, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as handed_over,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.follow_up_digests_enqueue(day=DAY)
        raise RuntimeError("the change fails after the digests were asked for")

    assert handed_over == []
    assert mail.outbox == []
    assert not Job.objects.exists()


def test_asking_twice_for_a_day_sends_each_representative_one_digest(
    reps_with_follow_ups, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.follow_up_digests_enqueue(day=DAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.follow_up_digests_enqueue(day=DAY)
    assert Job.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_digest_job_carries_plain_values_and_reads_its_data_when_it_runs(reps_with_follow_ups):
    ravi, _riya = reps_with_follow_ups
    services.follow_up_digests_enqueue(day=DAY)  # Inside the test's transaction: not run yet.
    job = Job.objects.get(params__user_id=ravi.pk)
    assert job.params == {"user_id": ravi.pk, "day": "2025-03-10"}
    assert job.key == f"follow_up_digest:2025-03-10:{ravi.pk}"


def test_a_representative_without_an_address_or_follow_ups_gets_nothing(reps_with_follow_ups):
    idle = UserFactory(username="idle", email="idle@example.com", role="sales_rep")
    no_address = UserFactory._meta.model.objects.get(username="nomail")
    assert services.follow_up_digest_send(user_id=idle.pk, day=DAY) is False
    assert services.follow_up_digest_send(user_id=no_address.pk, day=DAY) is False
    assert mail.outbox == []
