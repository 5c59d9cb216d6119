"""Races that only a real database with row locks can show (skipped on SQLite)."""

import itertools
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm_project.core.api.tokens import CRMRefreshToken
from crm_project.core.exceptions import Conflict
from crm_project.core.tests.concurrency import run_concurrently
from crm_project.core.tests.factories import ManagerFactory
from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStageChange
from opportunities.services import opportunity_close, opportunity_create, opportunity_update

from .factories import OpportunityFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {CRMRefreshToken.for_user(user).access_token}")
    return client


def test_ten_concurrent_closes_have_exactly_one_winner():
    manager = ManagerFactory(username="closer")
    opportunity = OpportunityFactory(owner=manager)
    token = str(CRMRefreshToken.for_user(manager).access_token)
    bodies = iter(
        [{"stage": "closed_won"}, {"stage": "closed_lost", "loss_reason": "Price"}] * 5
    )  # Half try to win it, half to lose it.

    def close_once() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post(f"/api/v1/crm/opportunities/{opportunity.pk}/close", next(bodies), format="json").status_code

    statuses, errors = run_concurrently(close_once, threads=10)

    assert errors == []
    assert sorted(statuses) == [200] + [409] * 9
    opportunity.refresh_from_db()
    assert opportunity.is_closed
    (close_row,) = OpportunityStageChange.objects.filter(opportunity=opportunity)
    assert close_row.to_stage == opportunity.stage


def test_fifty_concurrent_creates_get_distinct_contiguous_numbers():
    manager = ManagerFactory(username="creator")
    customer = CustomerFactory()

    def create_one() -> str:
        return opportunity_create(
            actor=manager, data={"name": "Deal", "customer": customer, "estimated_value": Decimal("10")}
        ).opportunity_number

    numbers, errors = run_concurrently(create_one, threads=50)

    assert errors == []
    assert len(set(numbers)) == 50
    prefixes = {number.rsplit("-", 1)[0] for number in numbers}
    assert len(prefixes) == 1 and prefixes.pop().startswith("OPP-")
    assert sorted(int(number.rsplit("-", 1)[1]) for number in numbers) == list(range(1, 51))
    assert Opportunity.objects.count() == OpportunityStageChange.objects.count() == 50


def test_concurrent_stage_changes_leave_an_unbroken_history_chain():
    manager = ManagerFactory(username="mover")
    opportunity = opportunity_create(
        actor=manager, data={"name": "Deal", "customer": CustomerFactory(), "estimated_value": Decimal("10")}
    )
    targets = iter(["qualification", "needs_analysis", "proposal", "negotiation"])

    def move() -> None:
        opportunity_update(actor=manager, opportunity=opportunity, data={"stage": next(targets)})

    _, errors = run_concurrently(move, threads=4)

    assert errors == []
    history = list(OpportunityStageChange.objects.filter(opportunity=opportunity).order_by("changed_at", "id"))
    assert len(history) == 5
    # Each change starts where the previous one ended: no two movers saw the same stage.
    assert all(later.from_stage == earlier.to_stage for earlier, later in itertools.pairwise(history))
    opportunity.refresh_from_db()
    assert opportunity.stage == history[-1].to_stage


def test_an_update_racing_a_close_never_reopens_it():
    manager = ManagerFactory(username="racer")
    opportunity = OpportunityFactory(stage="prospecting")
    roles = iter(["close"] + ["update"] * 7)

    def act() -> str:
        role = next(roles)
        try:
            if role == "close":
                opportunity_close(actor=manager, opportunity=opportunity, stage="closed_won")
            else:
                opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "negotiation"})
        except Conflict:
            return f"{role}: conflict"
        return f"{role}: done"

    results, errors = run_concurrently(act, threads=8)

    assert errors == []
    assert "close: done" in results
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.probability) == ("closed_won", 100)
    history = list(OpportunityStageChange.objects.filter(opportunity=opportunity).order_by("changed_at", "id"))
    assert history[-1].to_stage == "closed_won"
    assert sum(row.to_stage == "closed_won" for row in history) == 1
