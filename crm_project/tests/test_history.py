"""
Every change is recorded, in its own transaction, whatever made it: each public service of
every domain either leaves history (proven here, one by one) or is listed with the reason it
changes no record. A service added without either fails ``test_every_public_service_is_covered``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from communications import services as communications
from communications.tests.factories import CommunicationFactory
from crm_project.core.history import change_context
from crm_project.core.models import HistoryEntry
from crm_project.core.tests.factories import RepFactory
from customers import services as customers
from customers.tests.factories import CustomerFactory
from leads import services as leads
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory
from opportunities import services as opportunities
from opportunities.models import Quota
from opportunities.tests.factories import OpportunityFactory
from segments import services as segments
from segments.tests.factories import SegmentFactory

pytestmark = pytest.mark.django_db

DOMAIN_SERVICES = [
    "customers.services",
    "leads.services",
    "opportunities.services",
    "communications.services",
    "segments.services",
]

# Services that change no record, and why.
NO_RECORD_CHANGED = {
    "customer_record_contact": "moves last_contacted_at, derived from the communications",
    "customer_refresh_last_contacted": "recomputes last_contacted_at, derived from the communications",
    "lead_refresh_last_contacted": "recomputes last_contacted_at, derived from the communications",
    "lead_import_start": "asks for a job; the import it runs records each lead (tested below)",
    "leads_to_reassign": "reads",
    "follow_up_digest_send": "sends an e-mail",
    "follow_up_digests_enqueue": "asks for digest jobs",
    "segment_recount": "repairs the cached customer_count",
    "segment_recount_all": "repairs the cached customer_count",
    "segment_refresh_start": "asks for a job; the refresh records each membership change",
    "segments_due_for_refresh": "reads",
    "segments_lock": "locks",
    "validate_segment_values": "checks",
    "forecast_snapshot_take": "writes derived figures (the day's forecast), no record's change",
}


def public_services() -> set[str]:
    found = set()
    for name in DOMAIN_SERVICES:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            defined_here = getattr(value, "__module__", "") in (
                name,
                *(
                    f"{name}.{sub}"
                    for sub in ("bulk", "records", "transitions", "contact", "rules", "quotas", "forecast")
                ),
            )
            if inspect.isfunction(value) and not attribute.startswith("_") and defined_here:
                found.add(attribute)
    return found


def entries(record_type: str, record_id=None) -> list[tuple[str, str]]:
    rows = HistoryEntry.objects.filter(record_type=record_type)
    if record_id is not None:
        rows = rows.filter(record_id=record_id)
    return list(rows.order_by("at", "id").values_list("action", "source"))


# Each recipe: (manager, rep) -> the entries it must leave, as {(record_type, action), ...}.
RECIPES: dict[str, Callable] = {}


def recipe(name: str):
    def register(function):
        RECIPES[name] = function
        return function

    return register


@recipe("customer_create")
def _(manager, rep):
    customers.customer_create(actor=manager, data={"company_name": "Acme"})
    return {("customer", "created")}


@recipe("customer_update")
def _(manager, rep):
    customers.customer_update(actor=manager, customer=CustomerFactory(), data={"city": "Pune"})
    return {("customer", "updated")}


@recipe("customer_delete")
def _(manager, rep):
    customers.customer_delete(actor=manager, customer=CustomerFactory())
    return {("customer", "deleted")}


NEW_LEAD = {"company_name": "Lotus", "contact_person": "Meena", "email": "meena@lotus.example"}


@recipe("lead_create")
def _(manager, rep):
    leads.lead_create(actor=manager, data=NEW_LEAD)
    return {("lead", "created")}


@recipe("lead_update")
def _(manager, rep):
    leads.lead_update(actor=manager, lead=LeadFactory(), data={"city": "Pune"})
    return {("lead", "updated")}


@recipe("lead_delete")
def _(manager, rep):
    leads.lead_delete(actor=manager, lead=LeadFactory())
    return {("lead", "deleted")}


@recipe("lead_qualify")
def _(manager, rep):
    leads.lead_qualify(actor=manager, lead=LeadFactory(), qualification_score=80)
    return {("lead", "qualified")}


@recipe("lead_convert")
def _(manager, rep):
    leads.lead_convert(actor=manager, lead=LeadFactory())
    return {("lead", "converted"), ("customer", "created")}


@recipe("lead_mark_lost")
def _(manager, rep):
    leads.lead_mark_lost(actor=manager, lead=LeadFactory())
    return {("lead", "updated")}


@recipe("lead_mark_contacted")
def _(manager, rep):
    leads.lead_mark_contacted(actor=manager, lead=LeadFactory())
    return {("lead", "updated")}


@recipe("lead_assign")
def _(manager, rep):
    leads.lead_assign(actor=manager, lead=LeadFactory(assigned_to=None), assignee=rep)
    return {("lead", "updated")}


@recipe("lead_record_contact")
def _(manager, rep):
    leads.lead_record_contact(actor=manager, lead_id=LeadFactory(status=LeadStatus.NEW).pk, contacted_at=timezone.now())
    return {("lead", "updated")}


@recipe("lead_bulk_create")
def _(manager, rep):
    leads.lead_bulk_create(actor=manager, rows={2: NEW_LEAD, 3: {**NEW_LEAD, "email": "two@lotus.example"}})
    return {("lead", "created")}


@recipe("lead_reassign_bulk")
def _(manager, rep):
    LeadFactory.create_batch(2, assigned_to=rep)
    leads.lead_reassign_bulk(actor=manager, from_user=rep, to_user=manager)
    return {("lead", "updated")}


@recipe("opportunity_create")
def _(manager, rep):
    opportunities.opportunity_create(
        actor=manager, data={"name": "Deal", "customer": CustomerFactory(), "estimated_value": 100}
    )
    return {("opportunity", "created")}


@recipe("opportunity_update")
def _(manager, rep):
    opportunities.opportunity_update(actor=manager, opportunity=OpportunityFactory(), data={"stage": "proposal"})
    return {("opportunity", "stage_changed")}


@recipe("opportunity_close")
def _(manager, rep):
    opportunities.opportunity_close(actor=manager, opportunity=OpportunityFactory(), stage="closed_won")
    return {("opportunity", "closed_won")}


@recipe("opportunity_delete")
def _(manager, rep):
    opportunities.opportunity_delete(actor=manager, opportunity=OpportunityFactory())
    return {("opportunity", "deleted")}


JANUARY = dt.date(2026, 1, 1)


@recipe("quota_create")
def _(manager, rep):
    opportunities.quota_create(actor=manager, data={"user": rep, "period_start": JANUARY, "amount": Decimal(5)})
    return {("quota", "created")}


@recipe("quota_update")
def _(manager, rep):
    quota = Quota.objects.create(user=rep, period_start=JANUARY, amount=1)
    opportunities.quota_update(actor=manager, quota=quota, data={"amount": Decimal(7)})
    return {("quota", "updated")}


@recipe("quota_delete")
def _(manager, rep):
    opportunities.quota_delete(actor=manager, quota=Quota.objects.create(user=rep, period_start=JANUARY, amount=1))
    return {("quota", "deleted")}


@recipe("quota_import")
def _(manager, rep):
    Quota.objects.create(user=rep, period_start=JANUARY, amount=1)
    opportunities.quota_import(
        actor=manager,
        rows=[
            {"user": rep, "period_start": JANUARY, "amount": Decimal(2)},
            {"user": manager, "period_start": JANUARY, "amount": Decimal(3)},
        ],
    )
    return {("quota", "updated"), ("quota", "created")}


@recipe("communication_log")
def _(manager, rep):
    communications.communication_log(actor=manager, data={"customer": CustomerFactory(), "subject": "Call"})
    return {("communication", "created")}


@recipe("communication_update")
def _(manager, rep):
    communications.communication_update(actor=manager, communication=CommunicationFactory(), data={"subject": "New"})
    return {("communication", "updated")}


@recipe("communication_complete_follow_up")
def _(manager, rep):
    due = CommunicationFactory(requires_follow_up=True, follow_up_date=timezone.now())
    communications.communication_complete_follow_up(actor=manager, communication=due)
    return {("communication", "follow_up_completed")}


@recipe("communication_delete")
def _(manager, rep):
    communications.communication_delete(actor=manager, communication=CommunicationFactory())
    return {("communication", "deleted")}


@recipe("communication_follow_opportunity")
def _(manager, rep):
    opportunity = OpportunityFactory()
    CommunicationFactory(customer=opportunity.customer, opportunity=opportunity)
    opportunity.customer = CustomerFactory()
    opportunity.save()
    communications.communication_follow_opportunity(
        actor=manager, opportunity=opportunity, previous_customer_id=None, previous_lead_id=None
    )
    return {("communication", "updated")}


@recipe("communication_reassign_follow_ups")
def _(manager, rep):
    lead = LeadFactory(assigned_to=rep)
    CommunicationFactory(lead=lead, our_representative=rep, requires_follow_up=True, follow_up_date=timezone.now())
    communications.communication_reassign_follow_ups(
        actor=manager,
        leads=leads.leads_to_reassign(actor=manager, from_user=rep, to_user=manager),
        from_user=rep,
        to_user=manager,
    )
    return {("communication", "updated")}


@recipe("reassign_leads_with_follow_ups")
def _(manager, rep):
    LeadFactory(assigned_to=rep)
    communications.reassign_leads_with_follow_ups(actor=manager, from_user=rep, to_user=manager)
    return {("lead", "updated")}


@recipe("segment_create")
def _(manager, rep):
    segments.segment_create(actor=manager, data={"name": "Key", "code": "KEY"})
    return {("segment", "created")}


@recipe("segment_update")
def _(manager, rep):
    segments.segment_update(actor=manager, segment=SegmentFactory(), data={"name": "Renamed"})
    return {("segment", "updated")}


@recipe("segment_delete")
def _(manager, rep):
    segments.segment_delete(actor=manager, segment=SegmentFactory())
    return {("segment", "deleted")}


@recipe("segment_assign_customers")
def _(manager, rep):
    segments.segment_assign_customers(actor=manager, segment=SegmentFactory(), customer_ids=[CustomerFactory().pk])
    return {("segment", "membership_added")}


@recipe("segment_remove_customers")
def _(manager, rep):
    segment, customer = SegmentFactory(), CustomerFactory()
    segments.segment_assign_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    segments.segment_remove_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    return {("segment", "membership_added"), ("segment", "membership_removed")}


@recipe("opportunities_relink")
def _(manager, rep):
    duplicate, survivor = CustomerFactory(), CustomerFactory()
    OpportunityFactory(customer=duplicate)
    opportunities.opportunities_relink(actor=manager, field="customer", from_ids=[duplicate.pk], to_id=survivor.pk)
    return {("opportunity", "updated")}


@recipe("opportunities_relink_back")
def _(manager, rep):
    duplicate, survivor = CustomerFactory(), CustomerFactory()
    OpportunityFactory(customer=duplicate)
    moves = opportunities.opportunities_relink(
        actor=manager, field="customer", from_ids=[duplicate.pk], to_id=survivor.pk
    )
    HistoryEntry.objects.all().delete()
    opportunities.opportunities_relink_back(actor=manager, field="customer", moves=moves, current_id=survivor.pk)
    return {("opportunity", "updated")}


@recipe("communications_relink")
def _(manager, rep):
    duplicate, survivor = CustomerFactory(), CustomerFactory()
    CommunicationFactory(customer=duplicate)
    communications.communications_relink(actor=manager, field="customer", from_ids=[duplicate.pk], to_id=survivor.pk)
    return {("communication", "updated")}


@recipe("communications_relink_back")
def _(manager, rep):
    duplicate, survivor = LeadFactory(), LeadFactory()
    CommunicationFactory(customer=None, lead=duplicate)
    moves = communications.communications_relink(
        actor=manager, field="lead", from_ids=[duplicate.pk], to_id=survivor.pk
    )
    HistoryEntry.objects.all().delete()
    communications.communications_relink_back(actor=manager, field="lead", moves=moves, current_id=survivor.pk)
    return {("communication", "updated")}


@recipe("leads_relink_converted_customer")
def _(manager, rep):
    duplicate, survivor = CustomerFactory(), CustomerFactory()
    LeadFactory(status=LeadStatus.CONVERTED, converted_customer=duplicate)
    leads.leads_relink_converted_customer(actor=manager, from_ids=[duplicate.pk], to_id=survivor.pk)
    return {("lead", "updated")}


@recipe("leads_relink_converted_customer_back")
def _(manager, rep):
    duplicate, survivor = CustomerFactory(), CustomerFactory()
    LeadFactory(status=LeadStatus.CONVERTED, converted_customer=duplicate)
    moves = leads.leads_relink_converted_customer(actor=manager, from_ids=[duplicate.pk], to_id=survivor.pk)
    HistoryEntry.objects.all().delete()
    leads.leads_relink_converted_customer_back(actor=manager, moves=moves, current_id=survivor.pk)
    return {("lead", "updated")}


@recipe("segment_memberships_merge")
def _(manager, rep):
    segment, duplicate, survivor = SegmentFactory(), CustomerFactory(), CustomerFactory()
    segments.segment_assign_customers(actor=manager, segment=segment, customer_ids=[duplicate.pk])
    HistoryEntry.objects.all().delete()
    segments.segment_memberships_merge(actor=manager, survivor_id=survivor.pk, duplicate_ids=[duplicate.pk])
    return {("segment", "membership_added"), ("segment", "membership_removed")}


@recipe("segment_memberships_unmerge")
def _(manager, rep):
    segment, duplicate, survivor = SegmentFactory(), CustomerFactory(), CustomerFactory()
    segments.segment_assign_customers(actor=manager, segment=segment, customer_ids=[duplicate.pk])
    moved = segments.segment_memberships_merge(actor=manager, survivor_id=survivor.pk, duplicate_ids=[duplicate.pk])
    HistoryEntry.objects.all().delete()
    segments.segment_memberships_unmerge(actor=manager, survivor_id=survivor.pk, memberships=moved)
    return {("segment", "membership_added"), ("segment", "membership_removed")}


@recipe("segment_apply_criteria")
def _(manager, rep):
    CustomerFactory(city="Pune")
    segments.segment_apply_criteria(actor=manager, segment=SegmentFactory(criteria={"city": "Pune"}))
    return {("segment", "membership_added")}


def test_every_public_service_is_covered():
    assert public_services() == set(RECIPES) | set(NO_RECORD_CHANGED)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_service_leaves_history_of_its_change(name, manager, rep):
    HistoryEntry.objects.all().delete()  # Factories write none; nothing from the fixtures.
    expected = RECIPES[name](manager, rep)
    recorded = set(HistoryEntry.objects.values_list("record_type", "action"))
    assert recorded == expected
    assert set(HistoryEntry.objects.values_list("actor_id", flat=True)) <= {manager.pk, None}


def test_history_rolls_back_with_its_change(manager):
    with pytest.raises(RuntimeError), transaction.atomic():
        leads.lead_create(actor=manager, data=NEW_LEAD)
        raise RuntimeError("the change fails")
    assert not HistoryEntry.objects.exists()


# --- what it records -----------------------------------------------------------------------------


def test_an_update_records_old_and_new_values_under_the_apis_names(manager, rep):
    lead = LeadFactory(city="Mumbai", assigned_to=None, estimated_deal_value=100)
    leads.lead_update(actor=manager, lead=lead, data={"city": "Pune", "assigned_to": rep, "estimated_deal_value": 250})
    entry = HistoryEntry.objects.get(record_id=lead.pk)
    assert entry.changes == {
        "city": ["Mumbai", "Pune"],
        "assigned_to_id": [None, rep.pk],
        "estimated_deal_value": [100.0, 250.0],
    }
    assert (entry.actor_id, entry.actor_name, entry.source) == (manager.pk, manager.get_full_name(), "command")


def test_a_stage_move_is_a_stage_changed_entry(manager):
    opportunity = OpportunityFactory()
    opportunities.opportunity_update(actor=manager, opportunity=opportunity, data={"stage": "proposal"})
    entry = HistoryEntry.objects.get(record_id=opportunity.pk)
    assert entry.action == "stage_changed" and entry.changes["stage"] == ["prospecting", "proposal"]


@pytest.mark.parametrize("source", ["admin", "command", "import", "task", "merge"])
def test_the_source_is_what_the_change_came_through(manager, source):
    with change_context(source=source, request_id="req-1"):
        lead = leads.lead_create(actor=manager, data=NEW_LEAD)
    entry = HistoryEntry.objects.get(record_id=lead.pk)
    assert (entry.source, entry.request_id) == (source, "req-1")


def test_an_api_change_carries_the_requests_id_which_the_answer_returns(manager_client):
    response = manager_client.post(
        "/api/v1/crm/customers", {"company_name": "Acme"}, format="json", HTTP_X_REQUEST_ID="trace-42"
    )
    assert response["X-Request-ID"] == "trace-42"
    entry = HistoryEntry.objects.get(record_id=response.json()["id"])
    assert (entry.source, entry.request_id) == ("api", "trace-42")
    generated = manager_client.get("/api/v1/crm/customers")["X-Request-ID"]
    assert len(generated) == 32


def test_an_import_records_each_lead_as_the_imports(manager, django_capture_on_commit_callbacks, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        job = leads.lead_import_start(
            actor=manager, upload=ContentFile(b"company_name,contact_person,email\nA,B,ab@x.example\n", name="l.csv")
        )
    (entry,) = HistoryEntry.objects.filter(record_type="lead")
    assert (entry.action, entry.source, entry.request_id) == ("created", "import", f"job:{job.pk}")


def test_a_command_records_as_the_command(manager):
    rep_lead = LeadFactory(assigned_to=manager, status=LeadStatus.NEW)
    other = RepFactory(username="other")
    call_command("reassign_leads", "--from", manager.username, "--to", "other", stdout=io.StringIO())
    entry = HistoryEntry.objects.get(record_id=rep_lead.pk)
    assert (entry.source, entry.changes["assigned_to_id"]) == ("command", [manager.pk, other.pk])


# --- the API -----------------------------------------------------------------------------------------


def test_a_records_history_is_newest_first_and_paginated(manager_client, manager):
    lead = leads.lead_create(actor=manager, data=NEW_LEAD)
    leads.lead_qualify(actor=manager, lead=lead, qualification_score=90)
    body = manager_client.get(f"/api/v1/crm/leads/{lead.pk}/history").json()
    assert [item["action"] for item in body["results"]] == ["qualified", "created"]
    assert set(body["results"][0]) == {
        "id",
        "at",
        "action",
        "actor_id",
        "actor_name",
        "source",
        "request_id",
        "changes",
    }


def test_a_rep_reads_the_history_of_what_they_may_see_only(rep_client, other_rep, manager):
    theirs = leads.lead_create(actor=manager, data={**NEW_LEAD, "assigned_to": other_rep})
    assert rep_client.get(f"/api/v1/crm/leads/{theirs.pk}/history").status_code == 404


def test_a_deleted_records_history_stays_readable_by_managers(manager_client, rep_client, manager):
    customer = customers.customer_create(actor=manager, data={"company_name": "Gone Ltd"})
    customers.customer_delete(actor=manager, customer=customer)
    body = manager_client.get(f"/api/v1/crm/customers/{customer.pk}/history").json()
    assert [item["action"] for item in body["results"]] == ["deleted", "created"]
    assert rep_client.get(f"/api/v1/crm/customers/{customer.pk}/history").status_code == 404


def test_the_history_reads_in_a_fixed_number_of_queries(manager_client, manager, django_assert_max_num_queries):
    lead = leads.lead_create(actor=manager, data=NEW_LEAD)
    with django_assert_max_num_queries(6) as few:
        manager_client.get(f"/api/v1/crm/leads/{lead.pk}/history")
    for score in range(30):
        leads.lead_qualify(actor=manager, lead=lead, qualification_score=score, is_qualified=False)
    with django_assert_max_num_queries(6) as many:
        manager_client.get(f"/api/v1/crm/leads/{lead.pk}/history")
    assert len(few.captured_queries) == len(many.captured_queries)


def test_history_entries_at_older_dates_keep_their_order(manager):
    lead = leads.lead_create(actor=manager, data=NEW_LEAD)
    HistoryEntry.objects.filter(record_id=lead.pk).update(at=timezone.now() - dt.timedelta(days=1))
    leads.lead_update(actor=manager, lead=lead, data={"city": "Pune"})
    actions = list(HistoryEntry.objects.filter(record_id=lead.pk).order_by("-at").values_list("action", flat=True))
    assert actions == ["updated", "created"]
