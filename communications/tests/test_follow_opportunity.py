"""
An opportunity's communications move with it: when its customer or lead changes, they take the
new one in the same transaction, so none is left behind (invisible in the new customer's history,
and refused on its next edit).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from communications.models import Communication
from communications.services import communication_log
from communications.tests.factories import CommunicationFactory
from crm_project.core.tests.concurrency import wait_until_a_connection_waits_for_a_lock
from crm_project.core.tests.factories import ManagerFactory
from customers.tests.factories import CustomerFactory
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

CRM = "/api/v1/crm"


def reload(record):
    record.refresh_from_db()
    return record


@pytest.fixture
def moving_deal():
    """An opportunity of customer C1 with two communications, one a week old."""
    c1, c2 = CustomerFactory(), CustomerFactory()
    opportunity = OpportunityFactory(customer=c1)
    now = timezone.now()
    recent = CommunicationFactory(customer=c1, opportunity=opportunity, communication_date=now)
    older = CommunicationFactory(customer=c1, opportunity=opportunity, communication_date=now - dt.timedelta(days=7))
    # One of C1's own, about no opportunity: it stays.
    own = CommunicationFactory(customer=c1, communication_date=now - dt.timedelta(days=30))
    c1.last_contacted_at = now
    c1.save()
    return opportunity, c1, c2, (recent, older, own)


def test_changing_the_customer_moves_the_communications_with_the_opportunity(manager_client, moving_deal):
    opportunity, c1, c2, (recent, older, own) = moving_deal

    response = manager_client.patch(f"{CRM}/opportunities/{opportunity.pk}", {"customer_id": str(c2.pk)}, format="json")

    assert response.status_code == 200
    assert {reload(recent).customer_id, reload(older).customer_id} == {c2.pk}
    assert reload(own).customer_id == c1.pk
    c2_history = manager_client.get(f"{CRM}/communications/customer/{c2.pk}").json()["results"]
    assert {item["id"] for item in c2_history} == {str(recent.pk), str(older.pk)}
    c1_history = manager_client.get(f"{CRM}/communications/customer/{c1.pk}").json()["results"]
    assert [item["id"] for item in c1_history] == [str(own.pk)]


def test_the_moved_communications_can_be_edited_afterwards(manager_client, moving_deal):
    opportunity, _c1, c2, (recent, _older, _own) = moving_deal
    manager_client.patch(f"{CRM}/opportunities/{opportunity.pk}", {"customer_id": str(c2.pk)}, format="json")

    response = manager_client.patch(f"{CRM}/communications/{recent.pk}", {"subject": "Revised"}, format="json")

    assert response.status_code == 200, response.json()


def test_both_customers_last_contact_is_recomputed(manager, moving_deal):
    opportunity, c1, c2, (recent, _older, own) = moving_deal

    opportunity_update(actor=manager, opportunity=opportunity, data={"customer": c2})

    assert reload(c1).last_contacted_at == own.communication_date
    assert reload(c2).last_contacted_at == recent.communication_date


def test_changing_the_lead_moves_the_communications_to_the_new_lead(manager):
    old_lead, new_lead = LeadFactory(status=LeadStatus.CONTACTED), LeadFactory(status=LeadStatus.NEW)
    opportunity = OpportunityFactory(lead=old_lead)
    about_the_lead = CommunicationFactory(customer=opportunity.customer, opportunity=opportunity, lead=old_lead)
    without_a_lead = CommunicationFactory(customer=opportunity.customer, opportunity=opportunity, lead=None)
    old_lead.last_contacted_at = about_the_lead.communication_date
    old_lead.save()

    opportunity_update(actor=manager, opportunity=opportunity, data={"lead": new_lead})

    assert reload(about_the_lead).lead_id == new_lead.pk
    assert reload(without_a_lead).lead_id is None
    assert reload(old_lead).last_contacted_at is None
    new_lead = reload(new_lead)
    assert new_lead.last_contacted_at == about_the_lead.communication_date
    assert new_lead.status == LeadStatus.CONTACTED


def test_an_unchanged_customer_moves_nothing(manager, moving_deal):
    opportunity, _c1, _c2, (recent, _older, _own) = moving_deal
    before = reload(recent).updated_at

    opportunity_update(actor=manager, opportunity=opportunity, data={"name": "Renamed"})

    assert reload(recent).updated_at == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_communication_logged_while_its_opportunity_moves_lands_with_the_new_customer():
    manager = ManagerFactory(username="mover")
    c1, c2 = CustomerFactory(), CustomerFactory()
    opportunity = OpportunityFactory(customer=c1)
    as_read_before_the_move = Opportunity.objects.get(pk=opportunity.pk)
    moved, release = threading.Event(), threading.Event()
    logged: dict = {}

    def move() -> None:
        try:
            with transaction.atomic():
                opportunity_update(actor=manager, opportunity=opportunity, data={"customer": c2})
                moved.set()
                release.wait(10)
        finally:
            connections.close_all()

    def log() -> None:
        try:
            moved.wait(10)
            logged["communication"] = communication_log(
                actor=manager, data={"opportunity": as_read_before_the_move, "subject": "Called during the move"}
            )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            logged["error"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move), threading.Thread(target=log)]
    for thread in threads:
        thread.start()
    assert moved.wait(10)
    wait_until_a_connection_waits_for_a_lock()  # The logger queues behind the move.
    release.set()
    for thread in threads:
        thread.join(20)

    assert "error" not in logged, logged.get("error")
    assert Communication.objects.get(pk=logged["communication"].pk).customer_id == c2.pk
