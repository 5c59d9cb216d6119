"""
A customer's timeline (``GET /api/v1/crm/customers/{id}/timeline``): one stream, newest first,
of its communications and of the history of the customer, its leads and its opportunities;
cursor pages that neither skip nor repeat; a rep sees only what they may see; the same number
of queries whatever the page size.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from communications import services as communications
from communications.tests.factories import CommunicationFactory
from crm_project.core.models import HistoryEntry
from customers import services as customers
from leads import services as leads
from leads.tests.factories import LeadFactory
from opportunities import services as opportunities

pytestmark = pytest.mark.django_db


def url(customer, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/v1/crm/customers/{customer.pk}/timeline" + (f"?{query}" if query else "")


def read_all(client, customer, **params) -> list[dict]:
    """Every item, page after page, following ``next_cursor``."""
    items, cursor = [], None
    for _ in range(100):
        response = client.get(url(customer, **params, **({"cursor": cursor} if cursor else {})))
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the timeline never ended")


def converted_lead(manager, customer, *, city: str, assigned_to=None):
    """A lead that was changed while open, then converted into ``customer``."""
    lead = LeadFactory(assigned_to=assigned_to)
    leads.lead_update(actor=manager, lead=lead, data={"city": city})
    return leads.lead_convert(actor=manager, lead=lead, customer=customer)


@pytest.fixture
def customer(manager):
    return customers.customer_create(actor=manager, data={"company_name": "Indigo Mills"})


def test_it_holds_communications_and_the_changes_of_the_customer_its_leads_and_opportunities(
    manager_client, manager, customer
):
    lead = converted_lead(manager, customer, city="Surat")
    opportunity = opportunities.opportunity_create(
        actor=manager, data={"name": "Winter order", "customer": customer, "estimated_value": 5000}
    )
    opportunities.opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "proposal"})
    communications.communication_log(
        actor=manager,
        data={"customer": customer, "type": "call", "direction": "outbound", "subject": "Price list"},
    )

    items = read_all(manager_client, customer)

    kinds = [(item["type"], item["record_type"]) for item in items]
    assert ("communication", "communication") in kinds
    assert ("change", "customer") in kinds
    lead_actions = [item["data"]["action"] for item in items if item["record_id"] == str(lead.pk)]
    assert lead_actions == ["converted", "updated"]  # its history from before the conversion too
    stage_move = next(item for item in items if item["data"].get("action") == "stage_changed")
    assert stage_move["record_id"] == str(opportunity.pk)
    assert stage_move["data"]["changes"]["stage"] == ["prospecting", "proposal"]
    assert stage_move["summary"].startswith("Opportunity stage changed by ")
    assert "Stage: Prospecting → Proposal" in stage_move["summary"]
    times = [item["at"] for item in items]
    assert times == sorted(times, reverse=True)


def test_other_customers_items_stay_out(manager_client, manager, customer):
    other = customers.customer_create(actor=manager, data={"company_name": "Someone Else"})
    CommunicationFactory(customer=other)

    items = read_all(manager_client, customer)

    assert {item["record_id"] for item in items} == {str(customer.pk)}


def test_cursor_pages_neither_skip_nor_repeat_even_within_one_instant(manager_client, manager, customer):
    instant = timezone.now() - dt.timedelta(days=1)
    CommunicationFactory.create_batch(7, customer=customer, communication_date=instant)
    for number in range(6):
        customers.customer_update(actor=manager, customer=customer, data={"city": f"City {number}"})
    HistoryEntry.objects.filter(record_type="customer").update(at=instant)
    everything = read_all(manager_client, customer, page_size=100)

    paged = read_all(manager_client, customer, page_size=3)

    assert len(everything) == 7 + 6 + 1  # communications, updates, the creation
    assert [(item["type"], item["record_id"], item["data"].get("id")) for item in paged] == [
        (item["type"], item["record_id"], item["data"].get("id")) for item in everything
    ]


def test_types_filters_the_stream(manager_client, manager, customer):
    CommunicationFactory.create_batch(2, customer=customer)

    only_communications = read_all(manager_client, customer, types="communication")
    only_changes = read_all(manager_client, customer, types="change")

    assert {item["type"] for item in only_communications} == {"communication"}
    assert len(only_communications) == 2
    assert {item["type"] for item in only_changes} == {"change"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"types": "calls"}, "types"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "MjAyNi0wMS0wMXwxfGFiYw"}, "cursor"),  # a change position whose id is not a number
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(manager_client, customer, params, field):
    response = manager_client.get(url(customer, **params))

    assert response.status_code == 400, response.content
    assert field in response.json()


def test_an_unknown_customer_is_404(manager_client):
    response = manager_client.get("/api/v1/crm/customers/00000000-0000-0000-0000-000000000000/timeline")

    assert response.status_code == 404


def test_a_user_without_a_role_is_refused(no_role_client, customer):
    assert no_role_client.get(url(customer)).status_code == 403


def test_a_rep_sees_only_their_own_records_in_it(rep_client, rep, other_rep, manager, customer):
    mine = converted_lead(manager, customer, city="Mine", assigned_to=rep)
    theirs = converted_lead(manager, customer, city="Theirs", assigned_to=other_rep)
    their_deal = opportunities.opportunity_create(
        actor=manager, data={"name": "Theirs", "customer": customer, "estimated_value": 1, "owner": other_rep}
    )
    CommunicationFactory(customer=customer, our_representative=rep)
    CommunicationFactory(customer=customer, our_representative=other_rep)

    items = read_all(rep_client, customer)

    record_ids = {item["record_id"] for item in items}
    assert str(mine.pk) in record_ids
    assert str(theirs.pk) not in record_ids
    assert str(their_deal.pk) not in record_ids
    representatives = {item["data"]["our_representative_id"] for item in items if item["type"] == "communication"}
    assert representatives == {rep.pk}


def test_a_deleted_leads_history_stays_on_a_managers_timeline(manager_client, rep_client, manager, rep, customer):
    lead = converted_lead(manager, customer, city="Surat", assigned_to=rep)
    lead_id = str(lead.pk)
    leads.lead_delete(actor=manager, lead=lead)

    assert lead_id in {item["record_id"] for item in read_all(manager_client, customer)}
    assert lead_id not in {item["record_id"] for item in read_all(rep_client, customer)}


@pytest.mark.parametrize("user_fixture", ["manager_client", "rep_client"])
def test_a_page_costs_the_same_queries_whatever_its_size(
    request, manager, rep, customer, user_fixture, django_assert_max_num_queries
):
    client = request.getfixturevalue(user_fixture)
    CommunicationFactory.create_batch(60, customer=customer, our_representative=rep)
    for number in range(60):
        account_manager = rep if number % 2 else manager  # linked users, named in the summaries
        customers.customer_update(
            actor=manager, customer=customer, data={"city": f"City {number}", "account_manager": account_manager}
        )
    CommunicationFactory(customer=customer, our_representative=rep)  # the small page holds both kinds
    client.get(url(customer, page_size=1))  # warm the authentication caches

    with django_assert_max_num_queries(9) as small:
        page = client.get(url(customer, page_size=2)).json()["results"]
        assert [item["type"] for item in page] == ["communication", "change"]
    with django_assert_max_num_queries(9) as large:
        assert len(client.get(url(customer, page_size=100)).json()["results"]) == 100

    assert len(large.captured_queries) == len(small.captured_queries)
