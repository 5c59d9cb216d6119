import random

import pytest

from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext
from crm_project.reporting.demo import segments as demo
from customers.tests.factories import CustomerFactory
from segments.models import Segment, SegmentMembership
from segments.tests.factories import assert_count_is_true

pytestmark = pytest.mark.django_db


def test_demo_segments_are_filled_through_the_services_and_a_second_run_adds_nothing(manager, rep, superuser):
    CustomerFactory(
        email=f"big@{DEMO_EMAIL_DOMAIN}", annual_spend=600000, order_frequency="monthly", credit_rating="excellent"
    )
    for index in range(8):
        CustomerFactory(email=f"buyer{index}@{DEMO_EMAIL_DOMAIN}", annual_spend=1000)
    ctx = DemoContext(manager=manager, reps=[rep], admin=superuser, size=1, rng=random.Random(7))

    first = demo.seed(ctx)
    memberships = SegmentMembership.objects.count()
    second = demo.seed(ctx)

    assert Segment.objects.count() == len(demo.SEGMENTS) + 1
    assert first.startswith(f"{len(demo.SEGMENTS) + 1} demo segments ({len(demo.SEGMENTS) + 1} new)")
    assert second.endswith("(0 new), 0 customers newly assigned")
    assert SegmentMembership.objects.count() == memberships
    assert Segment.objects.get(code="KEY").customer_count == demo.KEY_ACCOUNTS_SIZE
    assert Segment.objects.get(code="HVC").customer_count == 1
    assert_count_is_true(*Segment.objects.all())
