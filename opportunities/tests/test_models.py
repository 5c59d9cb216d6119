"""The database holds the invariants even against writes that skip the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm_project.core.tests.factories import UserFactory
from opportunities.models import OPEN_STAGES, Opportunity, OpportunityStage, compute_expected_revenue

from .factories import OpportunityFactory, OpportunityStageChangeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"probability": 101},
        {"probability": -1},
        {"estimated_value": Decimal("-0.01")},
        {"stage": OpportunityStage.CLOSED_LOST, "actual_close_date": timezone.now(), "loss_reason": ""},
        {"stage": OpportunityStage.CLOSED_WON, "actual_close_date": None},
    ],
)
def test_constraints_refuse_inconsistent_rows(fields):
    opportunity = OpportunityFactory()
    for name, value in fields.items():
        setattr(opportunity, name, value)
    with pytest.raises(IntegrityError), transaction.atomic():
        opportunity.save()


def test_closed_flags_follow_the_stage():
    assert OpportunityFactory.build(won=True).is_won
    assert OpportunityFactory.build(lost=True).is_closed
    assert not OpportunityFactory.build(lost=True).is_won
    assert not any(Opportunity(stage=stage).is_closed for stage in OPEN_STAGES)


def test_open_stages_are_the_seven_minus_the_two_closed():
    assert [stage.value for stage in OPEN_STAGES] == [
        "prospecting",
        "qualification",
        "needs_analysis",
        "proposal",
        "negotiation",
    ]


@pytest.mark.parametrize(
    ("value", "probability", "expected"),
    [("150000", 70, "105000.00"), ("0", 50, "0.00"), ("999999999999.99", 100, "999999999999.99"), ("1.01", 50, "0.51")],
)
def test_compute_expected_revenue(value, probability, expected):
    assert compute_expected_revenue(Decimal(value), probability) == Decimal(expected)


def test_a_stage_change_reads_when_who_and_what_in_words():
    at = timezone.make_aware(dt.datetime(2025, 12, 15, 10, 30))
    meera = UserFactory(username="meera", first_name="Meera", last_name="Manager")
    change = OpportunityStageChangeFactory(
        from_stage="proposal", to_stage="negotiation", changed_by=meera, changed_at=at
    )
    assert str(change) == "15 Dec 2025 10:30 · Meera Manager · Proposal → Negotiation"


def test_a_stage_change_names_the_creation_the_username_or_the_system():
    at = timezone.make_aware(dt.datetime(2025, 12, 5, 9, 0))
    created = OpportunityStageChangeFactory(from_stage="", to_stage="prospecting", changed_by=None, changed_at=at)
    assert str(created) == "5 Dec 2025 09:00 · system · Created in Prospecting"
    nameless = UserFactory(username="ops.bot", first_name="", last_name="")
    closed = OpportunityStageChangeFactory(
        from_stage="negotiation", to_stage="closed_won", changed_by=nameless, changed_at=at
    )
    assert str(closed) == "5 Dec 2025 09:00 · ops.bot · Negotiation → Closed won"
