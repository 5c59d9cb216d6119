"""``segments_opportunity_figures``: segment_performance's opportunity figures for many segments at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm_project.core.roles import is_manager
from opportunities.tests.factories import OpportunityFactory
from segments.selectors import segment_performance, segments_opportunity_figures

from .factories import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def segments(rep, other_rep):
    """Two overlapping segments and one without opportunities; deals of two reps in every state."""
    key, regional, quiet = SegmentFactory(code="KEY"), SegmentFactory(code="REG"), SegmentFactory(code="QUIET")
    shared = SegmentMembershipFactory(segment=key).customer
    SegmentMembershipFactory(segment=regional, customer=shared)
    only_key = SegmentMembershipFactory(segment=key).customer
    SegmentMembershipFactory(segment=quiet)
    long_ago = timezone.now() - dt.timedelta(days=400)
    for owner in (rep, other_rep):
        OpportunityFactory(customer=shared, owner=owner, estimated_value=Decimal("1000"), probability=40)
        OpportunityFactory(customer=only_key, owner=owner, estimated_value=Decimal("250"), won=True)
        OpportunityFactory(customer=shared, owner=owner, estimated_value=Decimal("90"), lost=True)
        OpportunityFactory(
            customer=only_key, owner=owner, estimated_value=Decimal("5"), won=True, actual_close_date=long_ago
        )
    OpportunityFactory(owner=rep, estimated_value=Decimal("77777"))  # A customer in no segment.
    return [key, regional, quiet]


@pytest.mark.parametrize("persona", ["manager", "rep"])
@pytest.mark.parametrize("days", [None, 30])
def test_the_grouped_figures_equal_each_segments_performance(segments, persona, days, request):
    user = request.getfixturevalue(persona)
    start = timezone.localdate() - dt.timedelta(days=days) if days else None
    figures = segments_opportunity_figures(segment_ids=[s.pk for s in segments], user=user, start_date=start)
    for segment in segments:
        expected = segment_performance(segment=segment, user=user, start_date=start)["opportunities"]
        assert figures[segment.pk] == expected, segment.code


def test_a_rep_counts_only_their_own_deals(segments, rep):
    key = segments[0]
    figures = segments_opportunity_figures(segment_ids=[key.pk], user=rep)[key.pk]
    assert (figures["open_count"], figures["open_value"]) == (1, Decimal("1000.00"))
    assert (figures["won_count"], figures["won_value"], figures["lost_count"]) == (2, Decimal("255.00"), 1)


def test_a_segment_without_deals_has_zeros(segments, manager):
    quiet = segments[2]
    figures = segments_opportunity_figures(segment_ids=[quiet.pk], user=manager)[quiet.pk]
    assert figures["open_count"] == figures["won_count"] == 0
    assert figures["open_value"] == Decimal("0") and figures["win_rate"] == Decimal("0.00")


def test_any_number_of_segments_takes_one_query(segments, manager, django_assert_num_queries):
    is_manager(manager)  # The role is read once per user (cached on it); not what is measured here.
    with django_assert_num_queries(1):
        segments_opportunity_figures(segment_ids=[s.pk for s in segments], user=manager)
