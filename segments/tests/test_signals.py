"""Every way membership can change through the ORM keeps customer_count equal to the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.services import customer_delete
from customers.tests.factories import CustomerFactory
from segments.models import Segment, SegmentMembership

from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true, bulk_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment():
    return SegmentFactory()


@pytest.fixture
def customers():
    return CustomerFactory.create_batch(3)


def test_creating_a_membership_row_counts_it(segment, customers):
    SegmentMembership.objects.create(segment=segment, customer=customers[0])
    assert_count_is_true(segment)
    assert segment.customer_count == 1


def test_deleting_a_membership_row_uncounts_it(segment, customers):
    membership = SegmentMembershipFactory(segment=segment, customer=customers[0])
    membership.delete()
    assert_count_is_true(segment)
    assert segment.customer_count == 0


def test_moving_a_membership_row_to_another_segment_recounts_both(segment, customers):
    other = SegmentFactory()
    membership = SegmentMembershipFactory(segment=segment, customer=customers[0])
    membership.segment = other
    membership.save()
    assert_count_is_true(segment, other)
    assert (segment.customer_count, other.customer_count) == (0, 1)


def test_a_queryset_delete_of_rows_across_segments_recounts_each(segment, customers):
    other = SegmentFactory()
    for customer in customers:
        SegmentMembershipFactory(segment=segment, customer=customer)
        SegmentMembershipFactory(segment=other, customer=customer)
    SegmentMembership.objects.filter(customer__in=customers[:2]).delete()
    assert_count_is_true(segment, other)
    assert (segment.customer_count, other.customer_count) == (1, 1)


def test_segment_customers_add_remove_set_and_clear(segment, customers):
    first, second, third = customers
    segment.customers.add(first, second)
    assert_count_is_true(segment)
    assert segment.customer_count == 2

    segment.customers.remove(first)
    assert_count_is_true(segment)
    assert segment.customer_count == 1

    segment.customers.set([first, third])
    assert_count_is_true(segment)
    assert segment.customer_count == 2

    segment.customers.clear()
    assert_count_is_true(segment)
    assert segment.customer_count == 0


def test_adding_through_the_relation_keeps_who_added_it(segment, customers, manager):
    segment.customers.add(customers[0], through_defaults={"added_by": manager})
    assert SegmentMembership.objects.get().added_by == manager


def test_customer_segments_add_remove_and_clear(customers):
    hvc, vip, local = SegmentFactory.create_batch(3)
    customer = customers[0]

    customer.segments.add(hvc, vip, local)
    assert_count_is_true(hvc, vip, local)
    assert hvc.customer_count == vip.customer_count == local.customer_count == 1

    customer.segments.remove(vip)
    assert_count_is_true(hvc, vip, local)
    assert vip.customer_count == 0

    customer.segments.clear()
    assert_count_is_true(hvc, vip, local)
    assert hvc.customer_count == local.customer_count == 0


def test_deleting_a_customer_uncounts_it_in_each_of_its_segments(customers):
    hvc, vip = SegmentFactory.create_batch(2)
    for segment in (hvc, vip):
        for customer in customers:
            SegmentMembershipFactory(segment=segment, customer=customer)
    customers[0].delete()
    assert_count_is_true(hvc, vip)
    assert hvc.customer_count == vip.customer_count == 2


def test_deleting_a_customer_through_its_service_uncounts_it(segment, customers, manager):
    SegmentMembershipFactory(segment=segment, customer=customers[0])
    customer_delete(actor=manager, customer=customers[0])
    assert_count_is_true(segment)
    assert segment.customer_count == 0


def test_a_queryset_delete_of_customers_recounts_their_segments(segment, customers):
    for customer in customers:
        SegmentMembershipFactory(segment=segment, customer=customer)
    Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).delete()
    assert_count_is_true(segment)
    assert segment.customer_count == 1


def test_deleting_a_segment_through_the_orm_takes_its_rows_along(segment, customers):
    for customer in customers:
        SegmentMembershipFactory(segment=segment, customer=customer)
    segment.delete()
    assert not Segment.objects.exists()
    assert not SegmentMembership.objects.exists()


def test_the_same_queryset_deleting_twice_recounts_both_times(segment, customers):
    rows = SegmentMembership.objects.filter(segment=segment)
    SegmentMembershipFactory(segment=segment, customer=customers[0])
    rows.delete()
    SegmentMembershipFactory(segment=segment, customer=customers[1])
    rows.delete()
    assert_count_is_true(segment)
    assert segment.customer_count == 0


def _queries_to_delete(segment) -> int:
    with CaptureQueriesContext(connection) as captured:
        SegmentMembership.objects.filter(segment=segment).delete()
    return len(captured.captured_queries)


def test_deleting_many_rows_locks_and_recounts_each_segment_once():
    few, many = SegmentFactory.create_batch(2)
    for customer in bulk_customers(3):
        SegmentMembership.objects.create(segment=few, customer=customer)
    for customer in bulk_customers(40):
        SegmentMembership.objects.create(segment=many, customer=customer)

    assert _queries_to_delete(few) == _queries_to_delete(many)
    assert_count_is_true(few, many)
