"""Merging from the admin's customer and lead lists, and undoing from the merge's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communications.services import communication_log
from crm_project.merging.models import Merge
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:customers_customer_changelist")
LEADS = reverse("admin:leads_lead_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_a_manager_merges_customers_from_the_list_choosing_the_survivor_and_a_field(client, manager):
    client.force_login(manager)
    kept = CustomerFactory(company_name="Lotus Retail Pvt Ltd", phone="")
    other = CustomerFactory(company_name="Lotus Retail", phone="+91 98450 12345")
    call = communication_log(actor=manager, data={"customer": other, "subject": "Hello"})
    selected = {"action": "merge_selected_customers", "_selected_action": [str(kept.pk), str(other.pk)]}

    confirm = client.post(CUSTOMERS, selected)

    assert confirm.status_code == 200
    assert b"Keep" in confirm.content and b"phone" in confirm.content

    done = client.post(
        CUSTOMERS, {**selected, "apply": "1", "survivor": str(kept.pk), "take_phone": str(other.pk)}, follow=True
    )

    merge = Merge.objects.get()
    assert done.redirect_chain[-1][0] == reverse("admin:merging_merge_change", args=[merge.pk])
    assert any("Merged 1 record" in message for message in messages_of(done))
    assert b"Undo this merge" in done.content
    assert not Customer.objects.filter(pk=other.pk).exists()
    kept.refresh_from_db()
    call.refresh_from_db()
    assert kept.phone == "+91 98450 12345" and call.customer_id == kept.pk


def test_a_manager_undoes_a_merge_from_its_page(client, manager):
    client.force_login(manager)
    kept, other = CustomerFactory(), CustomerFactory()
    client.post(
        CUSTOMERS,
        {
            "action": "merge_selected_customers",
            "_selected_action": [str(kept.pk), str(other.pk)],
            "apply": "1",
            "survivor": str(kept.pk),
        },
    )
    merge = Merge.objects.get()
    undo = reverse("admin:merging_merge_undo", args=[merge.pk])

    assert client.get(undo).status_code == 200
    done = client.post(undo, follow=True)

    assert any("undone" in message for message in messages_of(done))
    assert Customer.objects.filter(pk=other.pk).exists()
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert b"Undo this merge" not in client.get(reverse("admin:merging_merge_change", args=[merge.pk])).content
    again = client.post(undo, follow=True)
    assert any("undone already" in message for message in messages_of(again))


def test_a_refused_merge_is_an_error_message_and_changes_nothing(client, manager):
    from leads.models import LeadStatus

    client.force_login(manager)
    open_lead = LeadFactory()
    converted = LeadFactory(status=LeadStatus.CONVERTED, converted_customer=CustomerFactory())

    response = client.post(
        LEADS,
        {
            "action": "merge_selected_leads",
            "_selected_action": [str(open_lead.pk), str(converted.pk)],
            "apply": "1",
            "survivor": str(open_lead.pk),
        },
        follow=True,
    )

    assert any("converted" in message for message in messages_of(response))
    assert Lead.objects.filter(pk=converted.pk).exists()
    assert not Merge.objects.exists()


def test_one_record_selected_is_refused_with_a_message(client, manager):
    client.force_login(manager)
    only = CustomerFactory()

    response = client.post(
        CUSTOMERS, {"action": "merge_selected_customers", "_selected_action": [str(only.pk)]}, follow=True
    )

    assert any("Select between 2" in message for message in messages_of(response))


def test_reps_are_offered_no_merge_and_cannot_read_merges(client, rep):
    client.force_login(rep)

    assert b"merge_selected_customers" not in client.get(CUSTOMERS).content
    assert b"merge_selected_leads" not in client.get(LEADS).content
    assert client.get(reverse("admin:merging_merge_changelist")).status_code == 403


def test_merges_are_listed_read_only_for_managers(client, manager):
    client.force_login(manager)
    kept, other = CustomerFactory(), CustomerFactory()
    client.post(
        CUSTOMERS,
        {
            "action": "merge_selected_customers",
            "_selected_action": [str(kept.pk), str(other.pk)],
            "apply": "1",
            "survivor": str(kept.pk),
        },
    )

    listed = client.get(reverse("admin:merging_merge_changelist"))

    assert listed.status_code == 200
    assert str(kept.pk).encode() in listed.content
    assert client.get(reverse("admin:merging_merge_add")).status_code == 403
