import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from communications.models import Communication
from crm_project.core.exceptions import Conflict, PreconditionFailed
from crm_project.core.versioning import etag_for
from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStage, OpportunityStageChange
from opportunities.services import opportunity_close, opportunity_create, opportunity_delete, opportunity_update

from .factories import LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def fixed_today():
    with mock.patch("crm_project.core.numbering.timezone.localdate", return_value=dt.date(2025, 12, 15)):
        yield


def create(actor, customer, **data):
    return opportunity_create(
        actor=actor, data={"name": "Winter order", "customer": customer, "estimated_value": Decimal("1000"), **data}
    )


# --- create ---------------------------------------------------------------------------------


def test_create_numbers_opportunities_from_todays_sequence(manager, customer, fixed_today):
    first = create(manager, customer)
    second = create(manager, customer)
    assert (first.opportunity_number, second.opportunity_number) == ("OPP-20251215-0001", "OPP-20251215-0002")


def test_a_refused_create_gives_its_number_back(manager, customer, fixed_today):
    with pytest.raises(ValidationError):
        create(manager, customer, stage=OpportunityStage.CLOSED_WON)
    assert create(manager, customer).opportunity_number == "OPP-20251215-0001"


def test_create_computes_expected_revenue(manager, customer):
    opportunity = create(manager, customer, estimated_value=Decimal("150000.00"), probability=70)
    opportunity.refresh_from_db()
    assert opportunity.expected_revenue == Decimal("105000.00")


def test_expected_revenue_is_rounded_half_up_to_cents(manager, customer):
    # 333.33 × 33 / 100 = 109.9989 → 110.00; 0.05 × 10 / 100 = 0.005 → 0.01.
    assert create(manager, customer, estimated_value=Decimal("333.33"), probability=33).expected_revenue == Decimal(
        "110.00"
    )
    assert create(manager, customer, estimated_value=Decimal("0.05"), probability=10).expected_revenue == Decimal(
        "0.01"
    )


def test_create_defaults_to_prospecting_probability_10_and_the_actor_as_owner(rep, customer):
    opportunity = create(rep, customer)
    assert (opportunity.stage, opportunity.probability, opportunity.owner, opportunity.created_by) == (
        "prospecting",
        10,
        rep,
        rep,
    )
    assert opportunity.expected_revenue == Decimal("100.00")


def test_create_writes_a_history_row_from_nothing_to_the_first_stage(rep, customer):
    opportunity = create(rep, customer, stage=OpportunityStage.PROPOSAL, probability=60)
    (row,) = OpportunityStageChange.objects.filter(opportunity=opportunity)
    assert (row.from_stage, row.to_stage, row.changed_by, row.probability, row.estimated_value) == (
        "",
        "proposal",
        rep,
        60,
        Decimal("1000.00"),
    )
    assert row.changed_at == opportunity.created_at


@pytest.mark.parametrize("stage", [OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST])
def test_create_refuses_a_closed_stage(manager, customer, stage):
    with pytest.raises(ValidationError) as error:
        create(manager, customer, stage=stage, loss_reason="x")
    assert "close" in error.value.message_dict["stage"][0]
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("field", "api_name"), [("name", "name"), ("customer", "customer_id"), ("estimated_value", "estimated_value")]
)
def test_create_requires_name_customer_and_value(manager, customer, field, api_name):
    data = {"name": "Deal", "customer": customer, "estimated_value": Decimal("5")}
    del data[field]
    with pytest.raises(ValidationError) as error:
        opportunity_create(actor=manager, data=data)
    assert api_name in error.value.message_dict


def test_a_rep_cannot_create_an_opportunity_owned_by_someone_else(rep, other_rep, customer):
    with pytest.raises(PermissionDenied, match="owner_id"):
        create(rep, customer, owner=other_rep)
    assert not Opportunity.objects.exists()


def test_a_rep_cannot_create_an_unowned_opportunity(rep, customer):
    with pytest.raises(PermissionDenied, match="owner_id"):
        create(rep, customer, owner=None)


def test_a_manager_may_give_an_opportunity_to_a_rep_or_to_nobody(manager, rep, customer):
    assert create(manager, customer, owner=rep).owner == rep
    assert create(manager, customer, owner=None).owner is None


def test_a_rep_may_link_a_lead_assigned_to_them_or_to_nobody(rep, customer):
    mine, unassigned = LeadFactory(assigned_to=rep), LeadFactory(assigned_to=None)
    assert create(rep, customer, lead=mine).lead == mine
    assert create(rep, customer, lead=unassigned).lead == unassigned


def test_a_rep_cannot_link_a_lead_they_cannot_see(rep, other_rep, customer):
    with pytest.raises(ValidationError) as error:
        create(rep, customer, lead=LeadFactory(assigned_to=other_rep))
    assert "lead_id" in error.value.message_dict


@pytest.mark.parametrize("value", ["Jackets", 500, None, True])
def test_products_interested_must_be_an_object_or_a_list(manager, customer, value):
    with pytest.raises(ValidationError) as error:
        create(manager, customer, products_interested=value)
    assert "products_interested" in error.value.message_dict


def test_products_interested_may_be_an_object_or_a_list(manager, customer):
    assert create(manager, customer, products_interested=["Jackets"]).products_interested == ["Jackets"]
    assert create(manager, customer, products_interested={"quantity": 5}).products_interested == {"quantity": 5}


# --- update ---------------------------------------------------------------------------------


def test_update_moves_between_open_stages_and_records_the_change(rep):
    opportunity = OpportunityFactory(owner=rep, stage=OpportunityStage.PROPOSAL, estimated_value=Decimal("200"))
    updated = opportunity_update(
        actor=rep, opportunity=opportunity, data={"stage": OpportunityStage.NEGOTIATION, "probability": 85}
    )
    assert updated.stage == "negotiation"
    (row,) = OpportunityStageChange.objects.filter(opportunity=opportunity)
    assert (row.from_stage, row.to_stage, row.changed_by, row.probability, row.estimated_value) == (
        "proposal",
        "negotiation",
        rep,
        85,
        Decimal("200.00"),
    )
    assert row.changed_at == updated.updated_at


def test_update_may_move_back_to_an_earlier_open_stage(rep):
    opportunity = OpportunityFactory(owner=rep, stage=OpportunityStage.NEGOTIATION)
    assert opportunity_update(actor=rep, opportunity=opportunity, data={"stage": "qualification"}).stage == (
        "qualification"
    )


def test_an_update_without_a_stage_change_writes_no_history(rep):
    opportunity = OpportunityFactory(owner=rep, stage=OpportunityStage.PROPOSAL)
    opportunity_update(actor=rep, opportunity=opportunity, data={"stage": "proposal", "next_step": "Call"})
    assert not OpportunityStageChange.objects.exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"estimated_value": Decimal("2000")}, Decimal("200.00")),
        ({"probability": 55}, Decimal("550.00")),
        ({"estimated_value": Decimal("50"), "probability": 100}, Decimal("50.00")),
    ],
)
def test_update_recomputes_expected_revenue_when_value_or_probability_change(manager, data, expected):
    opportunity = OpportunityFactory(estimated_value=Decimal("1000"), probability=10)
    opportunity_update(actor=manager, opportunity=opportunity, data=data)
    opportunity.refresh_from_db()
    assert opportunity.expected_revenue == expected


@pytest.mark.parametrize("stage", [OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST])
def test_update_cannot_set_a_closed_stage(manager, stage):
    opportunity = OpportunityFactory()
    with pytest.raises(ValidationError) as error:
        opportunity_update(actor=manager, opportunity=opportunity, data={"stage": stage})
    assert "close" in error.value.message_dict["stage"][0]
    opportunity.refresh_from_db()
    assert opportunity.stage == "prospecting"


@pytest.mark.parametrize("trait", ["won", "lost"])
def test_any_update_of_a_closed_opportunity_is_a_conflict(manager, trait):
    opportunity = OpportunityFactory(**{trait: True}, name="Old")
    before = opportunity.updated_at
    with pytest.raises(Conflict, match="closed"):
        opportunity_update(actor=manager, opportunity=opportunity, data={"name": "New"})
    with pytest.raises(Conflict):
        opportunity_update(actor=manager, opportunity=opportunity, data={})
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.updated_at) == ("Old", before)


def test_update_advances_updated_at(manager):
    opportunity = OpportunityFactory(updated_at=timezone.now() - dt.timedelta(hours=1))
    before = opportunity.updated_at
    assert opportunity_update(actor=manager, opportunity=opportunity, data={"name": "Renamed"}).updated_at > before


def test_an_update_that_changes_nothing_writes_nothing(manager):
    opportunity = OpportunityFactory(name="Same")
    before = opportunity.updated_at
    assert opportunity_update(actor=manager, opportunity=opportunity, data={"name": "Same"}).updated_at == before


def test_a_rep_cannot_hand_their_opportunity_to_someone_else(rep, other_rep):
    opportunity = OpportunityFactory(owner=rep)
    with pytest.raises(PermissionDenied, match="owner_id"):
        opportunity_update(actor=rep, opportunity=opportunity, data={"owner": other_rep})
    with pytest.raises(PermissionDenied, match="owner_id"):
        opportunity_update(actor=rep, opportunity=opportunity, data={"owner": None})
    opportunity.refresh_from_db()
    assert opportunity.owner == rep


def test_a_rep_may_send_themselves_as_owner(rep):
    opportunity = OpportunityFactory(owner=rep)
    assert opportunity_update(actor=rep, opportunity=opportunity, data={"owner": rep, "name": "X"}).name == "X"


def test_a_manager_may_reassign_an_opportunity(manager, rep, other_rep):
    opportunity = OpportunityFactory(owner=rep)
    assert opportunity_update(actor=manager, opportunity=opportunity, data={"owner": other_rep}).owner == other_rep


def test_update_cannot_link_a_lead_the_actor_cannot_see(rep, other_rep):
    opportunity = OpportunityFactory(owner=rep)
    with pytest.raises(ValidationError) as error:
        opportunity_update(actor=rep, opportunity=opportunity, data={"lead": LeadFactory(assigned_to=other_rep)})
    assert "lead_id" in error.value.message_dict


def test_update_cannot_remove_the_customer(manager):
    with pytest.raises(ValidationError) as error:
        opportunity_update(actor=manager, opportunity=OpportunityFactory(), data={"customer": None})
    assert "customer_id" in error.value.message_dict


def test_update_with_a_stale_if_match_is_refused(manager):
    opportunity = OpportunityFactory(name="Old")
    stale = etag_for(opportunity)
    opportunity_update(actor=manager, opportunity=opportunity, data={"name": "Newer"})
    with pytest.raises(PreconditionFailed):
        opportunity_update(actor=manager, opportunity=opportunity, data={"name": "Lost update"}, if_match=stale)
    opportunity.refresh_from_db()
    assert opportunity.name == "Newer"


# --- close ----------------------------------------------------------------------------------


def test_close_won_sets_probability_100_and_expected_revenue_to_the_value(manager):
    opportunity = OpportunityFactory(estimated_value=Decimal("150000"), probability=70)
    closed = opportunity_close(actor=manager, opportunity=opportunity, stage=OpportunityStage.CLOSED_WON)
    closed.refresh_from_db()
    assert (closed.stage, closed.probability, closed.expected_revenue) == ("closed_won", 100, Decimal("150000.00"))
    assert closed.is_closed and closed.is_won
    assert closed.loss_reason == ""


def test_close_lost_sets_probability_0_and_keeps_the_reason(manager):
    opportunity = OpportunityFactory(estimated_value=Decimal("150000"), probability=70)
    closed = opportunity_close(
        actor=manager, opportunity=opportunity, stage="closed_lost", loss_reason="  Competitor had lower pricing "
    )
    closed.refresh_from_db()
    assert (closed.stage, closed.probability, closed.expected_revenue) == ("closed_lost", 0, Decimal("0.00"))
    assert closed.loss_reason == "Competitor had lower pricing"
    assert closed.is_closed and not closed.is_won


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_close_lost_requires_loss_reason(manager, reason):
    opportunity = OpportunityFactory()
    with pytest.raises(ValidationError) as error:
        opportunity_close(actor=manager, opportunity=opportunity, stage="closed_lost", loss_reason=reason)
    assert "loss_reason" in error.value.message_dict
    opportunity.refresh_from_db()
    assert opportunity.stage == "prospecting"


def test_close_won_refuses_a_loss_reason(manager):
    with pytest.raises(ValidationError) as error:
        opportunity_close(actor=manager, opportunity=OpportunityFactory(), stage="closed_won", loss_reason="Price")
    assert "loss_reason" in error.value.message_dict


@pytest.mark.parametrize("stage", ["negotiation", "prospecting", "bogus", ""])
def test_close_needs_a_closed_stage(manager, stage):
    with pytest.raises(ValidationError) as error:
        opportunity_close(actor=manager, opportunity=OpportunityFactory(), stage=stage)
    assert "stage" in error.value.message_dict


def test_actual_close_date_defaults_to_now(manager):
    before = timezone.now()
    closed = opportunity_close(actor=manager, opportunity=OpportunityFactory(), stage="closed_won")
    assert before <= closed.actual_close_date <= timezone.now()


def test_a_given_actual_close_date_is_kept(manager):
    when = dt.datetime(2025, 12, 15, 10, 30, tzinfo=dt.UTC)
    closed = opportunity_close(
        actor=manager, opportunity=OpportunityFactory(), stage="closed_won", actual_close_date=when
    )
    closed.refresh_from_db()
    assert closed.actual_close_date == when


@pytest.mark.parametrize("trait", ["won", "lost"])
def test_closing_twice_is_a_conflict_and_changes_nothing(manager, trait):
    opportunity = OpportunityFactory(**{trait: True})
    before = (opportunity.stage, opportunity.updated_at)
    with pytest.raises(Conflict, match="already"):
        opportunity_close(actor=manager, opportunity=opportunity, stage="closed_lost", loss_reason="Again")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.updated_at) == before
    assert not OpportunityStageChange.objects.exists()


def test_close_appends_dated_notes_after_the_existing_ones(manager):
    opportunity = OpportunityFactory(notes="Met the buyer.")
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2025, 12, 15, 10, 30, tzinfo=dt.UTC)):
        closed = opportunity_close(
            actor=manager, opportunity=opportunity, stage="closed_won", notes="Deal closed - PO received"
        )
    # The same dated, signed line as every other note (leads write them alike).
    assert closed.notes == "Met the buyer.\n[2025-12-15 10:30 UTC · manager] Deal closed - PO received"


def test_close_without_notes_leaves_the_notes_alone(manager):
    closed = opportunity_close(actor=manager, opportunity=OpportunityFactory(notes="Keep"), stage="closed_won")
    assert closed.notes == "Keep"


def test_close_records_one_history_row(rep):
    opportunity = OpportunityFactory(owner=rep, stage="negotiation", probability=80, estimated_value=Decimal("500"))
    closed = opportunity_close(
        actor=rep, opportunity=opportunity, stage="closed_lost", loss_reason="Price", notes="Chose a competitor"
    )
    (row,) = OpportunityStageChange.objects.filter(opportunity=opportunity)
    assert (row.from_stage, row.to_stage, row.changed_by, row.probability, row.estimated_value, row.notes) == (
        "negotiation",
        "closed_lost",
        rep,
        0,
        Decimal("500.00"),
        "Chose a competitor",
    )
    assert row.changed_at == closed.updated_at


def test_close_advances_updated_at_and_honours_if_match(manager):
    opportunity = OpportunityFactory(updated_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(PreconditionFailed):
        opportunity_close(actor=manager, opportunity=opportunity, stage="closed_won", if_match='"stale"')
    closed = opportunity_close(
        actor=manager, opportunity=opportunity, stage="closed_won", if_match=etag_for(opportunity)
    )
    assert closed.updated_at > opportunity.updated_at


# --- delete ---------------------------------------------------------------------------------


def test_only_managers_delete_opportunities(rep):
    opportunity = OpportunityFactory(owner=rep)
    with pytest.raises(PermissionDenied):
        opportunity_delete(actor=rep, opportunity=opportunity)
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()


def test_a_manager_deletes_an_opportunity_with_its_history(manager):
    opportunity = create(manager, CustomerFactory())
    opportunity_delete(actor=manager, opportunity=opportunity)
    assert not Opportunity.objects.exists()
    assert not OpportunityStageChange.objects.exists()


def test_an_opportunity_that_communications_refer_to_cannot_be_deleted(manager):
    opportunity = OpportunityFactory()
    Communication.objects.create(opportunity=opportunity, customer=opportunity.customer, subject="Call")
    with pytest.raises(Conflict, match="communications"):
        opportunity_delete(actor=manager, opportunity=opportunity)
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()
