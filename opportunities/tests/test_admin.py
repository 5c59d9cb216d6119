"""The admin: changelist, search, saves through the services, read-only closed deals, closing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from opportunities.models import Opportunity, OpportunityStageChange

from .factories import OpportunityFactory, OpportunityStageChangeFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/opportunities/opportunity/"
ADD = CHANGELIST + "add/"


def change_url(opportunity) -> str:
    return f"{CHANGELIST}{opportunity.pk}/change/"


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rep_admin(client, rep):
    client.force_login(rep)
    return client


def form_data(**fields) -> dict:
    """A full change form, as the browser sends it (with the inlines' management forms)."""
    return {
        "name": "Winter order",
        "description": "",
        "estimated_value": "1000.00",
        "probability": "10",
        "stage": "prospecting",
        "expected_close_date_0": "",
        "expected_close_date_1": "",
        "next_step": "",
        "next_step_date_0": "",
        "next_step_date_1": "",
        "products_interested": "{}",
        "notes": "",
        "stage_changes-TOTAL_FORMS": "0",
        "stage_changes-INITIAL_FORMS": "0",
        "stage_changes-MIN_NUM_FORMS": "0",
        "stage_changes-MAX_NUM_FORMS": "1000",
        "communications-TOTAL_FORMS": "0",
        "communications-INITIAL_FORMS": "0",
        "communications-MIN_NUM_FORMS": "0",
        "communications-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_changelist_loads_in_a_fixed_number_of_queries(manager_admin):
    OpportunityFactory.create_batch(5)
    with CaptureQueriesContext(connection) as small:
        assert manager_admin.get(CHANGELIST).status_code == 200
    OpportunityFactory.create_batch(45)
    with CaptureQueriesContext(connection) as large:
        response = manager_admin.get(CHANGELIST)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_changelist_search_finds_by_number_name_and_customer(manager_admin):
    wanted = OpportunityFactory(name="Thermal jackets", customer=CustomerFactory(company_name="Sunrise Apparel"))
    other = OpportunityFactory(name="Cotton shirts")
    for term in [wanted.opportunity_number, "thermal", "sunrise"]:
        content = manager_admin.get(CHANGELIST, {"q": term}).content.decode()
        assert wanted.opportunity_number in content, term
        assert other.opportunity_number not in content, term


def test_a_rep_sees_only_their_opportunities_in_the_admin(rep_admin, rep, other_rep):
    mine = OpportunityFactory(owner=rep)
    theirs = OpportunityFactory(owner=other_rep)
    content = rep_admin.get(CHANGELIST).content.decode()
    assert mine.opportunity_number in content
    assert theirs.opportunity_number not in content
    assert rep_admin.get(change_url(theirs)).status_code == 302  # "doesn't exist" → back to the index


def test_adding_an_opportunity_numbers_it_through_the_service(manager_admin, manager):
    customer = CustomerFactory()
    response = manager_admin.post(
        ADD, form_data(customer=customer.pk, owner=manager.pk, estimated_value="150000", probability="70")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    opportunity = Opportunity.objects.get()
    assert opportunity.opportunity_number.startswith("OPP-")
    assert opportunity.expected_revenue == Decimal("105000.00")
    assert opportunity.created_by == manager
    assert OpportunityStageChange.objects.filter(opportunity=opportunity, from_stage="").count() == 1


def test_an_empty_products_box_stores_an_empty_object(manager_admin, manager):
    response = manager_admin.post(
        ADD, form_data(customer=CustomerFactory().pk, owner=manager.pk, products_interested="")
    )
    assert response.status_code == 302
    assert Opportunity.objects.get().products_interested == {}


def test_the_add_form_offers_only_open_stages_and_the_user_as_owner(manager_admin, manager):
    form = manager_admin.get(ADD).context["adminform"].form
    assert [value for value, _label in form.fields["stage"].choices] == [
        "prospecting",
        "qualification",
        "needs_analysis",
        "proposal",
        "negotiation",
    ]
    assert form.initial["owner"] == manager.pk


def test_a_rep_adding_an_opportunity_for_someone_else_is_refused(rep_admin, other_rep):
    response = rep_admin.post(ADD, form_data(customer=CustomerFactory().pk, owner=other_rep.pk), follow=True)
    assert "owner_id" in response.content.decode()
    assert not Opportunity.objects.exists()


def test_changing_value_in_the_admin_recomputes_expected_revenue_and_records_the_stage(manager_admin, manager):
    opportunity = OpportunityFactory(owner=manager, estimated_value=Decimal("1000"), probability=10)
    response = manager_admin.post(
        change_url(opportunity),
        form_data(
            name=opportunity.name,
            customer=opportunity.customer_id,
            owner=manager.pk,
            estimated_value="3000",
            probability="50",
            stage="proposal",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    opportunity.refresh_from_db()
    assert (opportunity.expected_revenue, opportunity.stage) == (Decimal("1500.00"), "proposal")
    (row,) = OpportunityStageChange.objects.filter(opportunity=opportunity)
    assert (row.from_stage, row.to_stage, row.changed_by) == ("prospecting", "proposal", manager)


def test_an_out_of_range_probability_is_a_form_error(manager_admin, manager):
    response = manager_admin.post(ADD, form_data(customer=CustomerFactory().pk, owner=manager.pk, probability="150"))
    assert response.status_code == 200
    assert "Probability must be between 0 and 100." in response.content.decode()
    assert not Opportunity.objects.exists()


def test_a_closed_opportunity_is_read_only(manager_admin, manager):
    opportunity = OpportunityFactory(won=True, name="Done")
    page = manager_admin.get(change_url(opportunity))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    manager_admin.post(
        change_url(opportunity), form_data(name="Changed", customer=opportunity.customer_id, owner=manager.pk)
    )
    opportunity.refresh_from_db()
    assert opportunity.name == "Done"


def test_the_change_page_shows_the_stage_history(manager_admin):
    change = OpportunityStageChangeFactory(from_stage="prospecting", to_stage="proposal", notes="Sent samples")
    content = manager_admin.get(change_url(change.opportunity)).content.decode()
    assert "Stage history" in content
    assert "Sent samples" in content


def test_the_stage_history_reads_date_who_and_stages_in_words_not_ids(manager_admin, manager):
    manager.first_name, manager.last_name = "Meera", "Manager"
    manager.save()
    opportunity = OpportunityFactory(stage="negotiation")
    at = timezone.make_aware(dt.datetime(2025, 12, 15, 10, 30))
    OpportunityStageChangeFactory(opportunity=opportunity, from_stage="", to_stage="prospecting", changed_at=at)
    OpportunityStageChangeFactory(
        opportunity=opportunity, from_stage="proposal", to_stage="negotiation", changed_by=manager, changed_at=at
    )

    content = manager_admin.get(change_url(opportunity)).content.decode()

    history = content[content.index('id="stage_changes-group"') :]
    history = history[: history.index("</fieldset>")]
    for words in ["15 Dec 2025 10:30", "system", "Created in Prospecting", "Meera Manager", "Proposal → Negotiation"]:
        assert words in history, words
    assert f"{opportunity.pk}:" not in history and "∅" not in history  # Was "<uuid>: ∅ → prospecting".
    assert "proposal → negotiation" not in history  # Stage labels, not their stored values.


def select(action: str, *opportunities, **extra) -> dict:
    return {"action": action, "_selected_action": [str(o.pk) for o in opportunities], **extra}


def test_close_as_won_asks_first_then_closes_through_the_service(manager_admin, manager):
    first, second = OpportunityFactory(probability=30), OpportunityFactory(probability=40)

    page = manager_admin.post(CHANGELIST, select("close_as_won", first, second, index="0"))
    assert page.status_code == 200
    content = page.content.decode()
    assert first.opportunity_number in content and 'name="confirm"' in content
    assert 'name="loss_reason"' not in content
    first.refresh_from_db()
    assert not first.is_closed  # nothing happens before the confirmation

    response = manager_admin.post(
        CHANGELIST, select("close_as_won", first, second, confirm="yes", notes="PO received"), follow=True
    )
    assert response.status_code == 200
    for opportunity in (first, second):
        opportunity.refresh_from_db()
        assert (opportunity.stage, opportunity.probability) == ("closed_won", 100)
        assert opportunity.notes.endswith("PO received")
    assert OpportunityStageChange.objects.filter(to_stage="closed_won").count() == 2
    assert "Closed won" in response.content.decode()


def test_close_as_lost_requires_the_loss_reason(manager_admin):
    opportunity = OpportunityFactory()
    page = manager_admin.post(CHANGELIST, select("close_as_lost", opportunity, index="0"))
    assert 'name="loss_reason"' in page.content.decode()

    refused = manager_admin.post(CHANGELIST, select("close_as_lost", opportunity, confirm="yes", loss_reason=""))
    assert refused.status_code == 200
    assert "This field is required" in refused.content.decode()
    opportunity.refresh_from_db()
    assert not opportunity.is_closed

    manager_admin.post(CHANGELIST, select("close_as_lost", opportunity, confirm="yes", loss_reason="Price"))
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.loss_reason, opportunity.probability) == ("closed_lost", "Price", 0)


def test_closing_an_already_closed_opportunity_is_reported_not_repeated(manager_admin):
    closed, open_one = OpportunityFactory(lost=True), OpportunityFactory()
    response = manager_admin.post(CHANGELIST, select("close_as_won", closed, open_one, confirm="yes"), follow=True)
    content = response.content.decode()
    assert f"{closed.opportunity_number}: " in content and "already" in content
    closed.refresh_from_db()
    open_one.refresh_from_db()
    assert (closed.stage, open_one.stage) == ("closed_lost", "closed_won")


def test_reps_cannot_delete_in_the_admin(rep_admin, rep):
    opportunity = OpportunityFactory(owner=rep)
    rep_admin.post(f"{CHANGELIST}{opportunity.pk}/delete/", {"post": "yes"})
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()


def test_a_manager_deletes_through_the_service(manager_admin):
    opportunity = OpportunityFactory()
    response = manager_admin.post(f"{CHANGELIST}{opportunity.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Opportunity.objects.exists()


def test_autocomplete_covers_customer_owner_and_lead_once_the_leads_admin_searches(rf, manager):
    model_admin = admin.site._registry[Opportunity]
    request = rf.get("/")
    request.user = manager
    fields = model_admin.get_autocomplete_fields(request)
    assert {"customer", "owner"} <= set(fields)
    from leads.models import Lead

    lead_admin = admin.site._registry.get(Lead)
    assert ("lead" in fields) == bool(lead_admin and lead_admin.search_fields)


# --- closing one from its page ------------------------------------------------------------------


def close_url(opportunity, outcome: str) -> str:
    return f"{CHANGELIST}{opportunity.pk}/close/{outcome}/"


def test_an_open_opportunitys_page_offers_close_as_won_and_lost(rep_admin, rep):
    opportunity = OpportunityFactory(owner=rep)
    content = rep_admin.get(change_url(opportunity)).content.decode()
    assert close_url(opportunity, "won") in content and close_url(opportunity, "lost") in content


def test_a_rep_closes_their_deal_as_lost_giving_the_reason(rep_admin, rep):
    opportunity = OpportunityFactory(owner=rep, probability=60)

    page = rep_admin.get(close_url(opportunity, "lost"))
    assert page.status_code == 200 and 'name="loss_reason"' in page.content.decode()
    refused = rep_admin.post(close_url(opportunity, "lost"), {"loss_reason": "  ", "notes": ""})
    assert refused.status_code == 200 and "loss_reason" in refused.context["form"].errors
    opportunity.refresh_from_db()
    assert not opportunity.is_closed

    done = rep_admin.post(
        close_url(opportunity, "lost"), {"loss_reason": "Competitor was cheaper", "notes": "Maybe next season"}
    )

    assert done.status_code == 302 and done["Location"] == change_url(opportunity)
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.probability, opportunity.loss_reason) == (
        "closed_lost",
        0,
        "Competitor was cheaper",
    )
    (row,) = OpportunityStageChange.objects.filter(opportunity=opportunity, to_stage="closed_lost")
    assert (row.changed_by, row.notes) == (rep, "Maybe next season")
    # Closed is final: no more buttons, and the page is read-only.
    content = rep_admin.get(change_url(opportunity)).content.decode()
    assert "/close/" not in content and 'name="_save"' not in content


def test_close_as_won_needs_no_reason(manager_admin):
    opportunity = OpportunityFactory()
    assert 'name="loss_reason"' not in manager_admin.get(close_url(opportunity, "won")).content.decode()
    manager_admin.post(close_url(opportunity, "won"), {"notes": ""})
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.probability) == ("closed_won", 100)


def test_a_closed_opportunity_cannot_be_closed_again_from_its_page(manager_admin):
    opportunity = OpportunityFactory(won=True)
    assert manager_admin.post(close_url(opportunity, "lost"), {"loss_reason": "x"}).status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.stage == "closed_won"


def test_another_reps_deal_has_no_close_page(rep_admin, other_rep):
    opportunity = OpportunityFactory(owner=other_rep)
    response = rep_admin.post(close_url(opportunity, "won"), {})
    assert response.status_code == 302 and response["Location"] == "/admin/"  # "Doesn't exist", as elsewhere.
    opportunity.refresh_from_db()
    assert not opportunity.is_closed


def test_an_unknown_outcome_is_not_a_page(manager_admin):
    opportunity = OpportunityFactory()
    assert manager_admin.get(close_url(opportunity, "maybe")).status_code == 302
    opportunity.refresh_from_db()
    assert not opportunity.is_closed


def test_a_refusal_by_the_service_is_shown_on_its_field_with_the_input_kept(manager_admin, manager):
    # The form accepts any JSON; the service's rule (an object or a list) refuses a number.
    data = form_data(name="Kept name", customer=CustomerFactory().pk, owner=manager.pk, products_interested="5")
    response = manager_admin.post(ADD, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["products_interested"] == ["Must be a JSON object or list."]
    assert form["name"].value() == "Kept name"
    assert not Opportunity.objects.exists()


def test_the_stage_is_a_coloured_badge_in_the_list(manager_admin):
    OpportunityFactory(won=True)
    assert (
        '<span class="crm-badge crm-badge--closed_won">Closed won</span>'
        in manager_admin.get(CHANGELIST).content.decode()
    )
