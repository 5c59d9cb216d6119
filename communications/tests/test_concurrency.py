"""Races on PostgreSQL: threads with their own connections, released together by a barrier."""

import datetime as dt

import pytest
from django.utils import timezone

from communications.models import Communication
from communications.services import communication_complete_follow_up, communication_delete, communication_log
from crm_project.core.exceptions import Conflict
from crm_project.core.tests.concurrency import run_concurrently
from crm_project.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory

from .factories import CommunicationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = timezone.now()


def superuser():
    # Acts as a manager without the role groups, which a transactional test's flush removes.
    return UserFactory(is_superuser=True)


def test_two_concurrent_completes_give_one_success_and_one_conflict():
    manager = superuser()
    communication = CommunicationFactory(requires_follow_up=True, follow_up_date=NOW)

    def complete():
        return communication_complete_follow_up(
            actor=manager, communication=Communication.objects.get(pk=communication.pk)
        )

    results, errors = run_concurrently(complete, threads=2)

    assert len(results) == 1
    assert [type(error) for error in errors] == [Conflict]
    communication.refresh_from_db()
    assert communication.follow_up_completed_at == results[0].follow_up_completed_at


def test_concurrent_deletes_leave_the_customer_at_its_latest_remaining_communication():
    manager = superuser()
    customer = CustomerFactory()
    survivor = CommunicationFactory(customer=customer, communication_date=NOW - dt.timedelta(days=30))
    doomed = [
        CommunicationFactory(customer=customer, communication_date=NOW - dt.timedelta(days=day)) for day in range(8)
    ]
    customer.last_contacted_at = NOW
    customer.save(update_fields=["last_contacted_at"])
    queue = list(doomed)

    def delete_one():
        communication_delete(actor=manager, communication=Communication.objects.get(pk=queue.pop().pk))

    results, errors = run_concurrently(delete_one, threads=len(doomed))

    assert (len(results), errors) == (len(doomed), [])
    customer.refresh_from_db()
    assert customer.last_contacted_at == survivor.communication_date


def test_concurrent_logs_leave_the_customer_at_the_latest_one():
    manager = superuser()
    customer = CustomerFactory()
    dates = iter([NOW - dt.timedelta(hours=hours) for hours in range(10)])

    def log_one():
        return communication_log(
            actor=manager, data={"customer": customer, "subject": "Call", "communication_date": next(dates)}
        )

    results, errors = run_concurrently(log_one, threads=10)

    assert (len(results), errors) == (10, [])
    customer.refresh_from_db()
    assert customer.last_contacted_at == NOW
