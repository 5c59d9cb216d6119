"""
The admin shows each record's history in words: its latest changes below the form on every
record page, all of them on the record's History page; names for linked records, labels for
choices, dates and amounts as people read them; a fixed number of queries however many
changes there are; nothing of a record the user may not see.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications import services as communications
from crm_project.core.history_words import in_words
from crm_project.core.models import HistoryEntry
from customers import services as customers
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads import services as leads
from leads.models import Lead
from leads.tests.factories import LeadFactory
from opportunities import services as opportunities
from opportunities.models import Opportunity
from segments import services as segments
from segments.models import Segment

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return " ".join(response.content.decode().split())


def change_page(client, record) -> str:
    opts = record._meta
    return page_text(client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])))


def history_page(client, record, **params):
    opts = record._meta
    return client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk]), params)


def test_an_opportunitys_page_shows_its_stage_move_and_new_owner_by_name(client, manager, rep):
    rep.first_name, rep.last_name = "Meena", "Shah"
    rep.save()
    deal = opportunities.opportunity_create(
        actor=manager, data={"name": "Winter order", "customer": CustomerFactory(), "estimated_value": 1000}
    )
    opportunities.opportunity_update(
        actor=manager, opportunity=deal, data={"stage": "proposal", "owner": rep, "estimated_value": 2500}
    )
    client.force_login(manager)

    text = change_page(client, deal)

    assert "Stage changed" in text
    assert "Stage: Prospecting → Proposal" in text
    assert "Meena Shah" in text  # the new owner by name, not by id
    assert "1,000.00 → 2,500.00" in text
    assert "Created" in text


@pytest.mark.parametrize("kind", ["customer", "lead", "communication", "segment"])
def test_every_record_page_shows_its_history(client, manager, kind):
    if kind == "customer":
        record = customers.customer_create(actor=manager, data={"company_name": "Indigo"})
        customers.customer_update(actor=manager, customer=record, data={"city": "Surat"})
        expected = "City: nothing → Surat"
    elif kind == "lead":
        record = LeadFactory(priority="low")
        leads.lead_update(actor=manager, lead=record, data={"priority": "high"})
        expected = "Priority: Low → High"
    elif kind == "communication":
        record = communications.communication_log(
            actor=manager,
            data={"customer": CustomerFactory(), "type": "phone", "direction": "outbound", "subject": "Prices"},
        )
        communications.communication_update(actor=manager, communication=record, data={"type": "email"})
        expected = "Type: Phone call → Email"
    else:
        record = segments.segment_create(actor=manager, data={"name": "North", "code": "NORTH"})
        customer = CustomerFactory(company_name="Lotus Textiles")
        segments.segment_assign_customers(actor=manager, segment=record, customer_ids=[customer.pk])
        expected = f"Customers: 1 added: {customer}"
    client.force_login(manager)

    assert expected in change_page(client, record)


def test_the_history_page_has_every_change_by_pages_and_the_record_page_only_the_latest(client, manager):
    customer = customers.customer_create(actor=manager, data={"company_name": "Indigo"})
    for number in range(12):
        customers.customer_update(actor=manager, customer=customer, data={"city": f"Town {number}"})
    client.force_login(manager)

    record_page = change_page(client, customer)
    first = history_page(client, customer)
    assert "Town 11" in record_page and "Town 0" not in record_page and "All changes" in record_page
    assert first.status_code == 200
    assert len(first.context["record_history"]) == 13

    with pytest.MonkeyPatch.context() as patch:
        from customers.admin import CustomerAdmin

        patch.setattr(CustomerAdmin, "changes_per_history_page", 5)
        third = history_page(client, customer, p=3)
    assert [entry.what for entry in third.context["record_history"]] == ["Updated", "Updated", "Created"]


def test_the_record_page_costs_the_same_queries_with_many_changes(client, manager, django_assert_max_num_queries):
    few = customers.customer_create(actor=manager, data={"company_name": "Few"})
    many = customers.customer_create(actor=manager, data={"company_name": "Many"})
    for number in range(30):
        customers.customer_update(
            actor=manager, customer=many, data={"city": f"Town {number}", "account_manager": manager}
        )
    client.force_login(manager)
    change_page(client, few)

    with django_assert_max_num_queries(40) as with_few:
        change_page(client, few)
    with django_assert_max_num_queries(40) as with_many:
        change_page(client, many)

    assert len(with_many.captured_queries) <= len(with_few.captured_queries) + 1  # the linked users, once


def test_a_rep_cannot_read_the_history_of_another_reps_lead(client, rep, other_rep):
    theirs = LeadFactory(assigned_to=other_rep)
    client.force_login(rep)

    response = history_page(client, theirs)

    assert response.status_code == 302  # the admin's answer for a record that is not there
    assert response.url == reverse("admin:index")


def test_words_for_values_the_api_keeps_as_codes(manager):
    customer = CustomerFactory(company_name="Lotus Textiles")
    entries = [
        HistoryEntry(
            record_type="lead",
            record_id=LeadFactory().pk,
            action="updated",
            actor_name="Meena",
            source="admin",
            changes={
                "converted_customer_id": [None, str(customer.pk)],
                "is_qualified": [False, True],
                "next_follow_up_date": [None, "2026-03-05T09:30:00+00:00"],
                "notes": ["", "word " * 40],
                "assigned_to_id": [manager.pk, 999_999],
            },
        )
    ]

    [words] = in_words(Lead, entries)

    assert words.what == "Updated" and words.who == "Meena"
    assert f"Converted customer: nothing → {customer}" in words.details  # "CUST-… Lotus Textiles"
    assert "Is qualified: no → yes" in words.details
    assert any(detail.endswith("→ 5 Mar 2026 09:30") for detail in words.details)
    assert any(detail.startswith("Notes: nothing → word word") and detail.endswith("…") for detail in words.details)
    assert any(detail.endswith("→ a deleted record") for detail in words.details)


def test_a_creation_is_one_line_without_the_values(manager):
    opportunity = opportunities.opportunity_create(
        actor=manager, data={"name": "Deal", "customer": CustomerFactory(), "estimated_value": 100}
    )
    entries = list(HistoryEntry.objects.filter(record_id=opportunity.pk))

    [words] = in_words(Opportunity, entries)

    assert words.sentence == f"Created by {manager.get_full_name() or manager.get_username()}"


def test_words_for_models_without_a_field_of_that_name_fall_back_to_the_name(manager):
    entries = [
        HistoryEntry(record_type="segment", record_id=Segment().pk, action="updated", changes={"retired_field": [1, 2]})
    ]

    [words] = in_words(Customer, entries)

    assert words.details == ("Retired field: 1 → 2",)
    assert words.who == "system"


def test_words_for_structures_and_odd_values_never_fail(manager):
    # History keeps whatever a change held: a structure on one side of a list change, a dict
    # among list items, a link that cannot be an id. Each is shown, not a server error.
    entries = [
        HistoryEntry(
            record_type="customer",
            record_id=CustomerFactory().pk,
            action="merged",
            changes={
                "merged_ids": [{"from": "a"}, [{"id": "x"}, "y"]],
                "account_manager_id": ["not-a-user", {"id": 1}],
                "credit_rating": [{"odd": True}, "A"],
                "last_contacted_at": ["2025-02-30T10:00:00Z", None],
            },
        )
    ]

    [words] = in_words(Customer, entries)

    assert any(detail.startswith("Merged ids: ") for detail in words.details)
    assert any(detail.startswith("Account manager: a deleted record → ") for detail in words.details)
    assert any(detail.startswith("Credit rating: {'odd': True} → ") for detail in words.details)
    assert any(detail.endswith("2025-02-30T10:00:00Z → nothing") for detail in words.details)
