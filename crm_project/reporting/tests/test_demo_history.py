"""
The demo tells a story that ends now: ``seed_demo`` leaves records whose dates follow one
another as they would have happened (what the lead analytics, the dashboard, and the stage
velocity read).
"""

import datetime as dt
import io
import statistics
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min
from django.test import override_settings
from django.utils import timezone

from communications.models import Communication
from crm_project.core.dates import start_of
from customers.models import Customer
from leads.models import OPEN_STATUSES, Lead, LeadStatus
from opportunities.models import OPEN_STAGES, Opportunity, OpportunityStage, OpportunityStageChange
from segments.models import Segment, SegmentMembership

pytestmark = pytest.mark.django_db

DATED_FIELDS = {
    Customer: ["created_at", "updated_at", "last_contacted_at"],
    Lead: ["created_at", "updated_at", "qualified_at", "converted_at", "last_contacted_at"],
    Opportunity: ["created_at", "updated_at", "actual_close_date"],
    OpportunityStageChange: ["changed_at"],
    Communication: ["created_at", "updated_at", "communication_date", "follow_up_completed_at"],
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """
    One demo for the whole module (seeding takes seconds): seeded in a transaction that each
    test's own transaction nests in, and rolled back after the module's last test.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=io.StringIO())
        yield timezone.now()
        transaction.set_rollback(True)


def test_the_average_time_to_convert_is_weeks_not_zero(seeded, client_for, manager):
    response = client_for(manager).get("/api/v1/crm/leads/analytics/summary")

    assert response.status_code == 200
    assert 5 <= response.json()["average_time_to_convert_days"] <= 90


def test_leads_came_in_over_months_and_converted_weeks_after(seeded):
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED)

    assert converted.count() >= 5
    for lead in converted:
        assert lead.converted_at - lead.created_at >= dt.timedelta(days=1), lead.lead_number
        assert lead.created_at < lead.qualified_at < lead.converted_at, lead.lead_number
        assert lead.lead_number.startswith(f"LEAD-{timezone.localdate(lead.created_at):%Y%m%d}-")
    first = Lead.objects.aggregate(first=Min("created_at"))["first"]
    assert seeded - first > dt.timedelta(days=150)


def test_a_leads_communications_follow_its_creation_and_its_last_contact_is_the_latest(seeded):
    dates = {
        row["lead"]: row
        for row in Communication.objects.exclude(lead=None)
        .values("lead")
        .annotate(first=Min("communication_date"), latest=Max("communication_date"))
    }

    for lead in Lead.objects.all():
        if lead.pk in dates:
            assert dates[lead.pk]["first"] > lead.created_at, lead.lead_number
            assert lead.last_contacted_at == dates[lead.pk]["latest"], lead.lead_number
        else:
            # Never contacted: still new.
            assert lead.last_contacted_at is None and lead.status == LeadStatus.NEW, lead.lead_number
    assert Lead.objects.filter(status=LeadStatus.NEW).exists()
    assert len(dates) > Lead.objects.filter(status=LeadStatus.NEW).count()


def test_a_customers_last_contact_is_its_latest_communication(seeded):
    latest = dict(Communication.objects.values_list("customer").annotate(latest=Max("communication_date")))

    for customer in Customer.objects.all():
        assert customer.last_contacted_at == latest.get(customer.pk), customer.customer_code


def test_stage_history_moves_forward_through_the_pipeline_from_creation_to_close(seeded):
    cycles = []
    for opportunity in Opportunity.objects.prefetch_related("stage_changes"):
        changes = sorted(opportunity.stage_changes.all(), key=lambda change: (change.changed_at, change.id))
        name = opportunity.opportunity_number

        assert changes[0].from_stage == "" and changes[0].to_stage == OpportunityStage.PROSPECTING, name
        assert changes[0].changed_at == opportunity.created_at, name
        for before, after in pairwise(changes):
            assert after.changed_at > before.changed_at, name
            assert after.from_stage == before.to_stage, name
        open_moves = [change.to_stage for change in changes if change.to_stage in OPEN_STAGES]
        assert open_moves == list(OPEN_STAGES[: len(open_moves)]), name
        assert changes[-1].to_stage == opportunity.stage, name
        if opportunity.is_closed:
            assert opportunity.actual_close_date == changes[-1].changed_at, name
            cycles.append(opportunity.actual_close_date - opportunity.created_at)
    # Weeks in the pipeline, not seconds.
    assert statistics.median(cycles) > dt.timedelta(days=14)


def test_opportunities_from_leads_open_after_the_conversion_for_its_customer(seeded):
    from_leads = Opportunity.objects.exclude(lead=None).select_related("lead")

    assert from_leads.exists()
    for opportunity in from_leads:
        assert opportunity.lead.status == LeadStatus.CONVERTED
        assert opportunity.customer_id == opportunity.lead.converted_customer_id
        assert opportunity.created_at > opportunity.lead.converted_at


def test_communications_are_logged_when_they_happen_about_records_that_existed(seeded):
    communications = Communication.objects.select_related("customer", "lead", "opportunity")

    for communication in communications:
        assert communication.created_at == communication.communication_date
        for record in (communication.customer, communication.lead, communication.opportunity):
            if record is not None:
                assert communication.communication_date >= record.created_at, communication.subject
        if communication.follow_up_completed:
            assert communication.follow_up_completed_at > communication.communication_date
    assert communications.exclude(opportunity=None).exists()


def test_nothing_is_dated_in_the_future_and_every_record_was_last_changed_after_its_events(seeded):
    for model, names in DATED_FIELDS.items():
        for row in model.objects.values("pk", *names):
            dates = [row[name] for name in names if row[name] is not None]
            assert max(dates) <= seeded, (model.__name__, row)
            if "updated_at" in row:
                assert row["updated_at"] == max(dates), (model.__name__, row)


def test_the_dashboard_has_follow_ups_due_today_overdue_and_later(seeded):
    today = start_of(timezone.localdate())
    tomorrow = today + dt.timedelta(days=1)
    leads = Lead.objects.filter(status__in=OPEN_STATUSES)
    follow_ups = Communication.objects.filter(requires_follow_up=True, follow_up_completed=False)

    for pending, field in ((leads, "next_follow_up_date"), (follow_ups, "follow_up_date")):
        assert pending.filter(**{f"{field}__lt": today}).exists(), field
        assert pending.filter(**{f"{field}__gte": today, f"{field}__lt": tomorrow}).exists(), field
        assert pending.filter(**{f"{field}__gte": tomorrow}).exists(), field
    assert Communication.objects.filter(follow_up_completed=True).exists()


def test_a_second_run_adds_nothing(seeded):
    models = [Customer, Lead, Opportunity, OpportunityStageChange, Communication, Segment, SegmentMembership]
    counts = [model.objects.count() for model in models]

    call_command("seed_demo", stdout=io.StringIO())

    assert [model.objects.count() for model in models] == counts
