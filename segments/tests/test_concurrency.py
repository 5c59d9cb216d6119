"""
Concurrent membership changes on PostgreSQL (threads with their own connections behind a
barrier): the count always ends equal to the rows, and no path deadlocks another.
"""

import itertools
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from crm_project.core.tests.concurrency import run_concurrently
from crm_project.core.tests.factories import UserFactory
from customers.models import Customer
from customers.services import customer_delete
from segments import services
from segments.models import Segment, SegmentMembership

from .factories import SegmentFactory, assert_count_is_true, bulk_customers, members_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boss():
    # A superuser acts as a manager without the role groups, which transactional tests flush.
    return UserFactory(username="boss", is_superuser=True)


def test_overlapping_concurrent_assigns_leave_the_count_true(boss):
    segment = SegmentFactory()
    customers = [c.pk for c in bulk_customers(100)]
    windows = iter([customers[start : start + 30] for start in range(0, 80, 8)])  # 10 overlapping windows

    def assign():
        return services.segment_assign_customers(actor=boss, segment=segment, customer_ids=next(windows))

    results, errors = run_concurrently(assign, threads=10)

    assert errors == []
    union = set(customers[:102])
    assert members_of(segment) == union
    assert sum(result.assigned for result in results) == len(union)
    assert_count_is_true(segment)
    assert segment.customer_count == len(union)


def test_concurrent_assigns_and_removes_leave_the_count_true(boss):
    segment = SegmentFactory()
    customers = [c.pk for c in bulk_customers(60)]
    services.segment_assign_customers(actor=boss, segment=segment, customer_ids=customers[:30])
    rng = random.Random(11)
    jobs = iter(
        [
            (
                services.segment_assign_customers if n % 2 else services.segment_remove_customers,
                rng.sample(customers, 25),
            )
            for n in range(12)
        ]
    )

    def change():
        job, ids = next(jobs)
        return job(actor=boss, segment=segment, customer_ids=ids)

    _results, errors = run_concurrently(change, threads=12)

    assert errors == []
    assert_count_is_true(segment)


def test_orm_paths_and_bulk_services_together_keep_both_counts_true_without_deadlocks(boss):
    first, second = SegmentFactory(code="FIRST"), SegmentFactory(code="SECOND")
    pool = iter(bulk_customers(160))
    # Disjoint customers per worker: Django's own add() is not safe against a concurrent insert
    # of the same pair; what is tested here is the counts and the lock order.
    chunks = iter([[next(pool) for _ in range(10)] for _ in range(16)])
    kinds = itertools.cycle(["service", "segment.customers", "customer.segments", "rows"])
    work = iter([(next(kinds), next(chunks)) for _ in range(16)])

    def change():
        kind, chunk = next(work)
        ids = [c.pk for c in chunk]
        if kind == "service":
            services.segment_assign_customers(actor=boss, segment=second, customer_ids=ids)
            services.segment_remove_customers(actor=boss, segment=first, customer_ids=ids[:3])
        elif kind == "segment.customers":
            with transaction.atomic():
                first.customers.add(*chunk)
            first.customers.remove(*chunk[:4])
        elif kind == "customer.segments":
            for customer in chunk:
                customer.segments.add(second, first)
            chunk[0].segments.clear()
        else:
            for customer in chunk:
                SegmentMembership.objects.create(segment=first, customer=customer)
            SegmentMembership.objects.filter(segment=first, customer_id__in=ids[:5]).delete()

    _results, errors = run_concurrently(change, threads=16)

    assert errors == []
    assert_count_is_true(first, second)
    assert first.customer_count > 0 and second.customer_count > 0


def _delete_while_assigning(boss, segment, target, others):
    """One thread deletes ``target`` while another assigns it (and others) to ``segment``."""
    workers = iter(
        [
            lambda: customer_delete(actor=boss, customer=Customer.objects.get(pk=target.pk)),
            lambda: services.segment_assign_customers(
                actor=boss, segment=segment, customer_ids=[target.pk, *(other.pk for other in others)]
            ),
        ]
    )
    return run_concurrently(lambda: next(workers)(), threads=2)


def test_deleting_a_customer_while_it_is_being_assigned_never_deadlocks(boss):
    # Without the segment lock taken before the membership rows are deleted, the delete waits
    # for the segment row the assign holds while the assign waits for the row being deleted.
    segment = SegmentFactory()
    for _round in range(8):
        target, *others = bulk_customers(5)
        services.segment_assign_customers(actor=boss, segment=segment, customer_ids=[target.pk])

        _results, errors = _delete_while_assigning(boss, segment, target, others)

        # The assign either ran first (the customer was still there) or found it gone (400).
        assert all(isinstance(error, ValidationError) for error in errors), errors
        assert not Customer.objects.filter(pk=target.pk).exists()
        assert_count_is_true(segment)


def test_recount_concurrent_with_assigns_ends_true(boss):
    segment = SegmentFactory()
    customers = [c.pk for c in bulk_customers(40)]
    Segment.objects.filter(pk=segment.pk).update(customer_count=999)
    batches = iter([customers[i : i + 10] for i in range(0, 40, 10)] + [None] * 4)

    def work():
        batch = next(batches)
        if batch is None:
            return services.segment_recount(segment_id=segment.pk)
        return services.segment_assign_customers(actor=boss, segment=segment, customer_ids=batch)

    _results, errors = run_concurrently(work, threads=8)

    assert errors == []
    assert_count_is_true(segment)
    assert segment.customer_count == 40
