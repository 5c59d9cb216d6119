import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communications.models import Communication
from crm_project.core.roles import is_manager
from customers.tests.factories import CustomerFactory
from opportunities.models import STAGE_FORECAST_CATEGORY, Opportunity, OpportunityStage, compute_expected_revenue
from segments.models import Segment
from segments.selectors import (
    segment_count_drift,
    segment_list_visible_to,
    segment_matching_customers,
    segment_members,
    segment_performance,
)

from .factories import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def opportunity(customer, value, stage, owner, *, probability=10, closed_at=None) -> Opportunity:
    return Opportunity.objects.create(
        opportunity_number=f"OPP-T-{next(_numbers)}",
        name="Deal",
        customer=customer,
        owner=owner,
        estimated_value=Decimal(value),
        probability=probability,
        expected_revenue=compute_expected_revenue(Decimal(value), probability),
        stage=stage,
        forecast_category=STAGE_FORECAST_CATEGORY[stage],
        actual_close_date=closed_at,
        loss_reason="Price" if stage == OpportunityStage.CLOSED_LOST else "",
    )


def communication(customer, when, representative) -> Communication:
    return Communication.objects.create(
        customer=customer, subject="Call", communication_date=when, our_representative=representative
    )


@pytest.fixture
def segment_with_history(rep, other_rep):
    """
    A segment of three customers (one inactive) and an outsider, with opportunities and
    communications placed on both sides of March 2025's edges.
    """
    segment = SegmentFactory()
    a = CustomerFactory(annual_spend=Decimal("100000"))
    b = CustomerFactory(annual_spend=Decimal("250000.50"))
    c = CustomerFactory(annual_spend=Decimal("50000"), is_active=False)
    outsider = CustomerFactory(annual_spend=Decimal("1000000"))
    for customer in (a, b, c):
        SegmentMembershipFactory(segment=segment, customer=customer)

    opportunity(a, 10000, OpportunityStage.PROSPECTING, rep)  # open: 1,000 weighted
    opportunity(b, 20000, OpportunityStage.NEGOTIATION, other_rep, probability=50)  # open: 10,000 weighted
    opportunity(a, 30000, OpportunityStage.CLOSED_WON, rep, probability=100, closed_at=at("2025-03-31T23:59:59"))
    opportunity(b, 40000, OpportunityStage.CLOSED_WON, rep, probability=100, closed_at=at("2025-04-01T00:00:00"))
    opportunity(c, 5000, OpportunityStage.CLOSED_LOST, other_rep, probability=0, closed_at=at("2025-03-01T00:00:00"))
    opportunity(a, 7000, OpportunityStage.CLOSED_LOST, rep, probability=0, closed_at=at("2025-02-28T23:59:59"))
    opportunity(outsider, 99999, OpportunityStage.PROPOSAL, rep)

    communication(a, at("2025-03-10T09:00:00"), rep)
    communication(b, at("2025-03-31T23:00:00"), other_rep)
    communication(c, at("2025-04-01T00:00:00"), rep)
    communication(a, at("2025-02-28T12:00:00"), rep)
    communication(outsider, at("2025-03-15T12:00:00"), rep)
    return segment


MARCH = {"start_date": dt.date(2025, 3, 1), "end_date": dt.date(2025, 3, 31)}


def test_performance_for_a_manager_over_march(segment_with_history, manager):
    figures = segment_performance(segment=segment_with_history, user=manager, **MARCH)

    assert figures == {
        "segment_id": segment_with_history.pk,
        "customer_count": 3,
        "active_customers": 2,
        "total_annual_spend": Decimal("400000.50"),
        "opportunities": {
            "open_count": 2,
            "open_value": Decimal("30000.00"),
            "weighted_value": Decimal("11000.00"),
            "won_count": 1,  # closed 31 March 23:59:59; the one at 1 April 00:00 is out
            "won_value": Decimal("30000.00"),
            "lost_count": 1,  # closed 1 March 00:00; the one on 28 February is out
            "win_rate": Decimal("50.00"),
        },
        "communications_count": 2,
        "last_communication_at": at("2025-03-31T23:00:00"),
    }


def test_performance_for_a_rep_counts_only_what_the_rep_may_see(segment_with_history, rep):
    figures = segment_performance(segment=segment_with_history, user=rep, **MARCH)

    assert (figures["customer_count"], figures["total_annual_spend"]) == (3, Decimal("400000.50"))
    assert figures["opportunities"] == {
        "open_count": 1,
        "open_value": Decimal("10000.00"),
        "weighted_value": Decimal("1000.00"),
        "won_count": 1,
        "won_value": Decimal("30000.00"),
        "lost_count": 0,
        "win_rate": Decimal("100.00"),
    }
    assert (figures["communications_count"], figures["last_communication_at"]) == (1, at("2025-03-10T09:00:00"))


def test_performance_without_dates_counts_every_close_and_communication(segment_with_history, manager):
    figures = segment_performance(segment=segment_with_history, user=manager)
    assert (figures["opportunities"]["won_count"], figures["opportunities"]["lost_count"]) == (2, 2)
    assert figures["opportunities"]["won_value"] == Decimal("70000.00")
    assert figures["opportunities"]["win_rate"] == Decimal("50.00")
    assert figures["communications_count"] == 4
    assert figures["last_communication_at"] == at("2025-04-01T00:00:00")


def test_performance_accepts_timestamps_as_exact_bounds(segment_with_history, manager):
    figures = segment_performance(
        segment=segment_with_history,
        user=manager,
        start_date=at("2025-03-31T23:59:59"),
        end_date=at("2025-04-01T00:00:00"),
    )
    assert (figures["opportunities"]["won_count"], figures["communications_count"]) == (2, 1)


def test_performance_of_an_empty_segment_is_all_zeros(manager):
    figures = segment_performance(segment=SegmentFactory(), user=manager, **MARCH)
    assert figures["customer_count"] == figures["active_customers"] == figures["communications_count"] == 0
    assert figures["total_annual_spend"] == Decimal("0")
    assert figures["last_communication_at"] is None
    assert figures["opportunities"]["win_rate"] == Decimal("0.00")
    assert figures["opportunities"]["open_value"] == Decimal("0")


def test_a_range_with_only_open_opportunities_has_a_zero_win_rate(segment_with_history, manager):
    figures = segment_performance(
        segment=segment_with_history, user=manager, start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 1, 31)
    )
    assert figures["opportunities"]["open_count"] == 2
    assert figures["opportunities"]["win_rate"] == Decimal("0.00")
    assert figures["communications_count"] == 0


def test_performance_takes_three_queries_however_many_customers(segment_with_history, manager):
    for customer in CustomerFactory.create_batch(20):
        SegmentMembershipFactory(segment=segment_with_history, customer=customer)
    is_manager(manager)  # The role is read once per user object (the API reads it with the token).
    with CaptureQueriesContext(connection) as captured:
        segment_performance(segment=segment_with_history, user=manager, **MARCH)
    assert len(captured.captured_queries) == 3


# --- lists -----------------------------------------------------------------------------------


def test_every_crm_role_reads_every_segment_and_no_role_none(manager, rep, no_role_user):
    SegmentFactory.create_batch(2)
    assert segment_list_visible_to(manager).count() == segment_list_visible_to(rep).count() == 2
    assert segment_list_visible_to(no_role_user).count() == 0


def test_members_are_the_segments_customers_only(rep):
    segment = SegmentFactory()
    member = CustomerFactory()
    CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=member)
    SegmentMembershipFactory(segment=SegmentFactory())
    assert list(segment_members(segment=segment, user=rep)) == [member]


def test_matching_customers_lists_matches_members_or_not_and_reports_unknown_keys(rep):
    segment = SegmentFactory(criteria={"city": "Pune", "vip": True})
    member = CustomerFactory(city="Pune")
    outsider = CustomerFactory(city="Pune")
    CustomerFactory(city="Delhi")
    SegmentMembershipFactory(segment=segment, customer=member)
    matches = segment_matching_customers(segment=segment, user=rep)
    assert set(matches.customers) == {member, outsider}
    assert matches.unrecognized_criteria == ["vip"]


def test_count_drift_lists_only_segments_whose_count_is_wrong():
    right, wrong = SegmentFactory(code="RIGHT"), SegmentFactory(code="WRONG")
    SegmentMembershipFactory(segment=right)
    SegmentMembershipFactory.create_batch(2, segment=wrong)
    Segment.objects.filter(pk=wrong.pk).update(customer_count=999)
    assert [(d.segment.code, d.segment.customer_count, d.true_count) for d in segment_count_drift()] == [
        ("WRONG", 999, 2)
    ]
