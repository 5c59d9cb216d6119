"""
Races of merges on PostgreSQL: threads with their own connections, released together by a
barrier, or one holding its transaction open while the other waits for its locks.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from communications.models import Communication
from communications.services import communication_log
from crm_project.core.exceptions import Conflict
from crm_project.core.tests.concurrency import run_concurrently, wait_until_a_connection_waits_for_a_lock
from crm_project.core.tests.factories import UserFactory
from crm_project.merging.models import Merge
from crm_project.merging.services import merge_records, merge_undo
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from opportunities.tests.factories import OpportunityFactory
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def superuser():
    # Acts as a manager without the role groups, which a transactional test's flush removes.
    return UserFactory(is_superuser=True)


def merge(actor, survivor, duplicates):
    return merge_records(
        actor=actor, kind="customer", survivor_id=survivor.pk, duplicate_ids=[d.pk for d in duplicates]
    )


@pytest.mark.parametrize("round_", range(3))
def test_two_merges_of_the_same_duplicate_one_wins_the_other_is_409(round_):
    manager = superuser()
    first, second, duplicate = CustomerFactory(), CustomerFactory(), CustomerFactory()
    segment = SegmentFactory()
    for customer in (first, second, duplicate):
        SegmentMembershipFactory(segment=segment, customer=customer)
    OpportunityFactory(customer=duplicate)
    survivors = [first, second]

    results, errors = run_concurrently(lambda: merge(manager, survivors.pop(), [duplicate]), threads=2)

    assert len(results) == 1, errors
    assert [type(error) for error in errors] == [Conflict]
    assert "merged into" in str(errors[0])
    assert Merge.objects.count() == 1
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert_count_is_true(segment)


@pytest.mark.parametrize("round_", range(3))
def test_two_merges_crossing_each_other_one_wins_the_other_is_409_not_a_deadlock(round_):
    manager = superuser()
    one, two = CustomerFactory(), CustomerFactory()
    OpportunityFactory(customer=one)
    OpportunityFactory(customer=two)
    pairs = [(one, two), (two, one)]

    def work():
        survivor, duplicate = pairs.pop()
        return merge(manager, survivor, [duplicate])

    results, errors = run_concurrently(work, threads=2)

    assert len(results) == 1, errors
    assert [type(error) for error in errors] == [Conflict]
    assert Customer.objects.filter(pk__in=[one.pk, two.pk]).count() == 1


def test_two_undos_of_one_merge_one_wins_the_other_is_409():
    manager = superuser()
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    done = merge(manager, survivor, [duplicate])

    results, errors = run_concurrently(lambda: merge_undo(actor=manager, merge=done), threads=2)

    assert len(results) == 1
    assert [type(error) for error in errors] == [Conflict]
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def _holding(work, release: threading.Event, outcome: dict):
    """Run ``work`` in a transaction that stays open until ``release`` is set."""

    def run():
        try:
            with transaction.atomic():
                outcome["result"] = work()
                release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _in_thread(work, outcome: dict):
    def run():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_communication_logged_on_a_duplicate_while_it_is_merged_lands_on_the_survivor():
    manager = superuser()
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    release, merged, logged = threading.Event(), {}, {}
    merging = _holding(lambda: merge(manager, survivor, [duplicate]), release, merged)
    while "result" not in merged and "error" not in merged:
        merging.join(timeout=0.01)  # The merge holds its locks once it answered.
    logging = _in_thread(
        lambda: communication_log(actor=manager, data={"customer": duplicate, "subject": "Raced"}), logged
    )
    wait_until_a_connection_waits_for_a_lock()
    release.set()
    merging.join(timeout=30)
    logging.join(timeout=30)

    assert "error" not in merged and "error" not in logged, (merged, logged)
    communication = Communication.objects.get(pk=logged["result"].pk)
    assert communication.customer_id == survivor.pk
    survivor.refresh_from_db()
    assert survivor.last_contacted_at == communication.communication_date


def test_a_merge_waits_for_a_communication_being_logged_on_a_duplicate_then_moves_it():
    manager = superuser()
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    release, merged, logged = threading.Event(), {}, {}
    logging = _holding(
        lambda: communication_log(actor=manager, data={"customer": duplicate, "subject": "First"}), release, logged
    )
    while "result" not in logged and "error" not in logged:
        logging.join(timeout=0.01)
    merging = _in_thread(lambda: merge(manager, survivor, [duplicate]), merged)
    wait_until_a_connection_waits_for_a_lock()
    release.set()
    logging.join(timeout=30)
    merging.join(timeout=30)

    assert "error" not in merged and "error" not in logged, (merged, logged)
    communication = Communication.objects.get(pk=logged["result"].pk)
    assert communication.customer_id == survivor.pk
    assert merged["result"].moved["communications"] == {str(duplicate.pk): [str(communication.pk)]}


def test_communications_logged_on_a_duplicate_during_a_merge_are_never_lost():
    manager = superuser()
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    opportunity = OpportunityFactory(customer=duplicate)
    jobs = ["merge", *[f"log {n}" for n in range(6)]]

    def work():
        job = jobs.pop()
        if job == "merge":
            return merge(manager, survivor, [duplicate])
        if job.endswith(("0", "2", "4")):
            return communication_log(actor=manager, data={"opportunity": opportunity, "subject": job})
        return communication_log(actor=manager, data={"customer": duplicate, "subject": job})

    results, errors = run_concurrently(work, threads=len(jobs))

    assert errors == []
    assert len(results) == 7
    assert Communication.objects.count() == 6
    assert set(Communication.objects.values_list("customer_id", flat=True)) == {survivor.pk}
