"""Segments and memberships arranged directly (memberships through the ORM: the receivers count them)."""

from __future__ import annotations

import itertools

import factory

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from segments.models import Segment, SegmentMembership


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n:03d}")
    code = factory.Sequence(lambda n: f"SEG{n:03d}")
    description = ""
    criteria = factory.LazyFunction(dict)
    benefits = factory.LazyFunction(dict)
    priority = 0


class SegmentMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentMembership

    segment = factory.SubFactory(SegmentFactory)
    customer = factory.SubFactory(CustomerFactory)


_bulk_numbers = itertools.count(1)


def bulk_customers(count: int, **fields) -> list[Customer]:
    """Many customers in one statement, for bulk and query-budget tests."""
    numbers = [next(_bulk_numbers) for _ in range(count)]
    customers = [Customer(customer_code=f"CUST-B{n:07d}", company_name=f"Bulk buyer {n}", **fields) for n in numbers]
    return Customer.objects.bulk_create(customers, batch_size=1000)


def members_of(segment: Segment) -> set:
    return set(SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True))


def assert_count_is_true(*segments: Segment) -> None:
    for segment in segments:
        segment.refresh_from_db()
        rows = SegmentMembership.objects.filter(segment=segment).count()
        assert segment.customer_count == rows, f"{segment.code}: customer_count {segment.customer_count}, rows {rows}"
