"""forecast_category: follows the stage until chosen, a choice sticks until closing, closing decides."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStage
from opportunities.services import opportunity_close, opportunity_create, opportunity_update

from .factories import OpportunityFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/opportunities"


def create(actor, **data):
    return opportunity_create(
        actor=actor, data={"name": "Deal", "customer": CustomerFactory(), "estimated_value": Decimal("1000"), **data}
    )


@pytest.mark.parametrize(
    ("stage", "category"),
    [
        ("prospecting", "pipeline"),
        ("qualification", "pipeline"),
        ("needs_analysis", "pipeline"),
        ("proposal", "best_case"),
        ("negotiation", "commit"),
    ],
)
def test_a_new_opportunity_takes_its_stages_category(manager, stage, category):
    assert create(manager, stage=stage).forecast_category == category


def test_the_category_follows_stage_moves_until_chosen(manager):
    opportunity = create(manager)
    opportunity = opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "proposal"})
    assert opportunity.forecast_category == "best_case"
    opportunity = opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "negotiation"})
    opportunity.refresh_from_db()
    assert opportunity.forecast_category == "commit"


def test_a_chosen_category_sticks_through_later_stage_moves(rep):
    opportunity = create(rep)
    opportunity = opportunity_update(actor=rep, opportunity=opportunity, data={"forecast_category": "commit"})
    opportunity = opportunity_update(actor=rep, opportunity=opportunity, data={"stage": "proposal"})
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.forecast_category) == ("proposal", "commit")


def test_choosing_the_stages_own_category_also_sticks(manager):
    opportunity = create(manager, stage="proposal")
    opportunity = opportunity_update(actor=manager, opportunity=opportunity, data={"forecast_category": "best_case"})
    opportunity = opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "negotiation"})
    opportunity.refresh_from_db()
    assert opportunity.forecast_category == "best_case"


def test_a_category_chosen_on_create_sticks(manager):
    opportunity = create(manager, forecast_category="omitted")
    opportunity = opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "negotiation"})
    assert opportunity.forecast_category == "omitted"


@pytest.mark.parametrize(("stage", "category"), [("closed_won", "closed"), ("closed_lost", "omitted")])
def test_closing_sets_the_category_over_a_choice(manager, stage, category):
    opportunity = create(manager, forecast_category="best_case")
    opportunity = opportunity_close(
        actor=manager, opportunity=opportunity, stage=stage, loss_reason="Price" if stage == "closed_lost" else ""
    )
    opportunity.refresh_from_db()
    assert (opportunity.forecast_category, opportunity.forecast_category_chosen) == (category, False)


def test_closed_cannot_be_chosen_for_an_open_opportunity(manager):
    opportunity = create(manager)
    with pytest.raises(ValidationError) as refused:
        opportunity_update(actor=manager, opportunity=opportunity, data={"forecast_category": "closed"})
    assert "forecast_category" in refused.value.message_dict


def test_the_database_refuses_a_category_that_contradicts_the_stage(manager):
    opportunity = OpportunityFactory(won=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=opportunity.pk).update(forecast_category="commit")
    open_one = OpportunityFactory(stage=OpportunityStage.PROPOSAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=open_one.pk).update(forecast_category="closed")


def test_the_choice_is_recorded_in_the_history(manager):
    from crm_project.core.models import HistoryEntry

    opportunity = create(manager)
    opportunity_update(actor=manager, opportunity=opportunity, data={"forecast_category": "commit"})
    entry = HistoryEntry.objects.filter(record_id=opportunity.pk).order_by("-id").first()
    assert entry.changes["forecast_category"] == ["pipeline", "commit"]


# --- through the API ---------------------------------------------------------------------------


def test_the_api_reads_and_writes_the_category(rep_client, rep):
    opportunity = OpportunityFactory(owner=rep, stage="proposal")
    assert rep_client.get(f"{URL}/{opportunity.pk}").json()["forecast_category"] == "best_case"
    response = rep_client.patch(f"{URL}/{opportunity.pk}", {"forecast_category": "commit"}, format="json")
    assert response.status_code == 200, response.json()
    response = rep_client.patch(f"{URL}/{opportunity.pk}", {"stage": "qualification"}, format="json")
    assert response.json()["forecast_category"] == "commit"


def test_the_api_refuses_closed_naming_the_field(manager_client):
    opportunity = OpportunityFactory()
    response = manager_client.patch(f"{URL}/{opportunity.pk}", {"forecast_category": "closed"}, format="json")
    assert response.status_code == 400
    assert "forecast_category" in response.json()


def test_another_reps_opportunity_category_cannot_be_set(other_rep_client, rep):
    opportunity = OpportunityFactory(owner=rep)
    response = other_rep_client.patch(f"{URL}/{opportunity.pk}", {"forecast_category": "commit"}, format="json")
    assert response.status_code == 404
