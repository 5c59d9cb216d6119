"""
The pattern for work that leaves a transaction (``crm_project/core/background.py``), shown on the
follow-up digest: a service queues a task by name with plain arguments; the task runs only once
the transaction commits, never for one that rolls back, and calls one service.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.db import transaction

from communications import services, tasks
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
    with django_capture_on_commit_callbacks(execute=True) as queued, transaction.atomic():
        assert services.follow_up_digests_enqueue(day=DAY) == 2
        assert mail.outbox == []  # Decided, not sent: the transaction is still open.

    assert len(queued) == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["ravi@example.com", "riya@example.com"]


def test_a_rolled_back_transaction_sends_nothing(reps_with_follow_ups, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as queued,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.follow_up_digests_enqueue(day=DAY)
        raise RuntimeError("the change fails after the digests were queued")

    assert queued == []
    assert mail.outbox == []


def test_tasks_take_plain_arguments_that_travel_as_json(reps_with_follow_ups, monkeypatch):
    sent: list[dict] = []
    monkeypatch.setattr(transaction, "on_commit", lambda callback, robust=False: sent.append(callback.args[1]))
    services.follow_up_digests_enqueue(day=DAY)
    assert sent and all(json.loads(json.dumps(kwargs)) == kwargs for kwargs in sent)


def test_the_task_calls_the_service_and_reads_its_data_afresh(reps_with_follow_ups):
    ravi, _riya = reps_with_follow_ups
    tasks.email_follow_up_digest(user_id=ravi.pk, day=DAY.isoformat())
    assert [message.to for message in mail.outbox] == [["ravi@example.com"]]
    assert "1 communication" in mail.outbox[0].body


def test_a_representative_without_an_address_or_follow_ups_gets_nothing(reps_with_follow_ups):
    idle = UserFactory(username="idle", email="idle@example.com", role="sales_rep")
    no_address = UserFactory._meta.model.objects.get(username="nomail")
    assert services.follow_up_digest_send(user_id=idle.pk, day=DAY) is False
    assert services.follow_up_digest_send(user_id=no_address.pk, day=DAY) is False
    assert mail.outbox == []
