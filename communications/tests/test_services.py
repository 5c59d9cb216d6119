import datetime as dt

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communications.models import Communication
from communications.services import (
    communication_complete_follow_up,
    communication_delete,
    communication_log,
    communication_update,
)
from crm_project.core.exceptions import Conflict, PreconditionFailed
from crm_project.core.versioning import etag_for
from customers.tests.factories import CustomerFactory
from leads.models import LeadStatus

from .factories import CommunicationFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def log(actor, **data) -> Communication:
    data.setdefault("subject", "Call")
    return communication_log(actor=actor, data=data)


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# --- what a communication is about ---------------------------------------------------------


def test_log_requires_a_customer_a_lead_or_an_opportunity(manager):
    with pytest.raises(ValidationError) as excinfo:
        log(manager)
    assert error_fields(excinfo) == {NON_FIELD_ERRORS}
    assert not Communication.objects.exists()


@pytest.mark.parametrize("link", ["customer", "lead", "opportunity"])
def test_any_one_record_is_enough(manager, link):
    record = {"customer": CustomerFactory, "lead": LeadFactory, "opportunity": OpportunityFactory}[link]()
    communication = log(manager, **{link: record})
    assert getattr(communication, f"{link}_id") == record.pk


def test_an_opportunity_given_without_a_customer_brings_its_customer(manager):
    opportunity = OpportunityFactory()
    communication = log(manager, opportunity=opportunity)
    assert communication.customer_id == opportunity.customer_id


def test_a_customer_other_than_the_opportunitys_is_refused_on_customer_id(manager):
    with pytest.raises(ValidationError) as excinfo:
        log(manager, opportunity=OpportunityFactory(), customer=CustomerFactory())
    assert error_fields(excinfo) == {"customer_id"}


def test_the_opportunitys_own_customer_is_accepted(manager):
    opportunity = OpportunityFactory()
    assert log(manager, opportunity=opportunity, customer=opportunity.customer).customer_id == opportunity.customer_id


def test_a_lead_other_than_the_opportunitys_lead_is_refused_on_lead_id(manager):
    opportunity = OpportunityFactory(lead=LeadFactory())
    with pytest.raises(ValidationError) as excinfo:
        log(manager, opportunity=opportunity, lead=LeadFactory())
    assert error_fields(excinfo) == {"lead_id"}


def test_any_lead_goes_with_an_opportunity_that_has_none(manager):
    lead = LeadFactory()
    assert log(manager, opportunity=OpportunityFactory(lead=None), lead=lead).lead_id == lead.pk


# --- follow-ups, duration, defaults ---------------------------------------------------------


def test_a_required_follow_up_needs_a_follow_up_date(manager):
    with pytest.raises(ValidationError) as excinfo:
        log(manager, customer=CustomerFactory(), requires_follow_up=True)
    assert error_fields(excinfo) == {"follow_up_date"}


def test_a_negative_duration_is_refused(manager):
    with pytest.raises(ValidationError) as excinfo:
        log(manager, customer=CustomerFactory(), duration_minutes=-1)
    assert error_fields(excinfo) == {"duration_minutes"}


def test_the_representative_defaults_to_the_actor_and_the_date_to_now(rep):
    before = timezone.now()
    communication = log(rep, customer=CustomerFactory())
    assert communication.our_representative == rep
    assert communication.created_by == rep
    assert before <= communication.communication_date <= timezone.now()


def test_a_rep_cannot_name_someone_else_as_representative(rep, other_rep):
    with pytest.raises(PermissionDenied, match="our_representative_id"):
        log(rep, customer=CustomerFactory(), our_representative=other_rep)
    assert not Communication.objects.exists()


def test_a_manager_may_name_any_representative(manager, rep):
    assert log(manager, customer=CustomerFactory(), our_representative=rep).our_representative == rep


# --- contact bookkeeping on log -------------------------------------------------------------


def test_logging_about_a_new_lead_marks_it_contacted(manager):
    lead = LeadFactory(status=LeadStatus.NEW)
    log(manager, lead=lead, communication_date=days_ago(1))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    assert lead.last_contacted_at == days_ago(1)


def test_logging_about_a_customer_moves_last_contacted_forward_only(manager):
    customer = CustomerFactory()
    log(manager, customer=customer, communication_date=days_ago(1))
    log(manager, customer=customer, communication_date=days_ago(5))
    customer.refresh_from_db()
    assert customer.last_contacted_at == days_ago(1)


def test_logging_about_an_opportunity_counts_as_contact_with_its_customer(manager):
    opportunity = OpportunityFactory()
    log(manager, opportunity=opportunity, communication_date=days_ago(2))
    opportunity.customer.refresh_from_db()
    assert opportunity.customer.last_contacted_at == days_ago(2)


# --- update ---------------------------------------------------------------------------------


def test_update_checks_the_merged_state(manager):
    communication = log(manager, lead=LeadFactory())
    with pytest.raises(ValidationError) as excinfo:
        communication_update(actor=manager, communication=communication, data={"lead": None})
    assert error_fields(excinfo) == {NON_FIELD_ERRORS}
    with pytest.raises(ValidationError) as excinfo:
        communication_update(actor=manager, communication=communication, data={"requires_follow_up": True})
    assert error_fields(excinfo) == {"follow_up_date"}


def test_update_to_an_opportunity_of_another_customer_is_refused_on_customer_id(manager):
    communication = log(manager, customer=CustomerFactory())
    with pytest.raises(ValidationError) as excinfo:
        communication_update(actor=manager, communication=communication, data={"opportunity": OpportunityFactory()})
    assert error_fields(excinfo) == {"customer_id"}


def test_update_advances_updated_at_and_the_etag(manager):
    communication = CommunicationFactory()
    before = etag_for(communication)
    updated = communication_update(actor=manager, communication=communication, data={"subject": "New"})
    assert updated.subject == "New"
    assert etag_for(updated) != before


def test_update_with_a_stale_version_is_refused_and_changes_nothing(manager):
    communication = CommunicationFactory(subject="Old")
    stale = etag_for(communication)
    communication_update(actor=manager, communication=communication, data={"subject": "First"})
    with pytest.raises(PreconditionFailed):
        communication_update(actor=manager, communication=communication, data={"subject": "Second"}, if_match=stale)
    communication.refresh_from_db()
    assert communication.subject == "First"


def test_a_rep_cannot_hand_a_communication_to_someone_else(rep, other_rep):
    communication = log(rep, customer=CustomerFactory())
    with pytest.raises(PermissionDenied, match="our_representative_id"):
        communication_update(actor=rep, communication=communication, data={"our_representative": other_rep})


def test_moving_the_date_back_recomputes_the_customers_last_contact(manager):
    customer = CustomerFactory()
    older = log(manager, customer=customer, communication_date=days_ago(10))
    latest = log(manager, customer=customer, communication_date=days_ago(1))
    communication_update(actor=manager, communication=latest, data={"communication_date": days_ago(20)})
    customer.refresh_from_db()
    assert customer.last_contacted_at == older.communication_date


def test_moving_a_communication_to_another_customer_recomputes_both(manager):
    first, second = CustomerFactory(), CustomerFactory()
    log(manager, customer=first, communication_date=days_ago(9))
    moved = log(manager, customer=first, communication_date=days_ago(1))
    communication_update(actor=manager, communication=moved, data={"customer": second})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.last_contacted_at == days_ago(9)
    assert second.last_contacted_at == days_ago(1)


def test_linking_a_new_lead_marks_it_contacted_and_the_old_lead_falls_back(manager):
    old_lead, new_lead = LeadFactory(), LeadFactory(status=LeadStatus.NEW)
    communication = log(manager, lead=old_lead, communication_date=days_ago(3))
    communication_update(actor=manager, communication=communication, data={"lead": new_lead})
    old_lead.refresh_from_db()
    new_lead.refresh_from_db()
    assert old_lead.last_contacted_at is None
    assert (new_lead.status, new_lead.last_contacted_at) == (LeadStatus.CONTACTED, days_ago(3))


def test_an_edit_that_leaves_the_latest_contact_alone_does_not_touch_the_customer(manager):
    customer = CustomerFactory()
    older = log(manager, customer=customer, communication_date=days_ago(10))
    log(manager, customer=customer, communication_date=days_ago(1))
    customer.refresh_from_db()
    version = customer.updated_at
    communication_update(actor=manager, communication=older, data={"communication_date": days_ago(11)})
    customer.refresh_from_db()
    assert customer.updated_at == version


def test_a_completed_follow_up_cannot_be_made_not_required(manager):
    communication = CommunicationFactory(
        requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True, follow_up_completed_at=NOW
    )
    with pytest.raises(Conflict):
        communication_update(actor=manager, communication=communication, data={"requires_follow_up": False})


# --- complete follow-up -----------------------------------------------------------------------


def test_completing_a_follow_up_records_when(manager):
    communication = CommunicationFactory(requires_follow_up=True, follow_up_date=days_ago(1))
    completed = communication_complete_follow_up(actor=manager, communication=communication)
    assert completed.follow_up_completed is True
    assert completed.follow_up_completed_at is not None
    assert completed.updated_at >= completed.follow_up_completed_at


def test_completing_when_no_follow_up_is_required_is_invalid(manager):
    communication = CommunicationFactory(requires_follow_up=False)
    with pytest.raises(ValidationError) as excinfo:
        communication_complete_follow_up(actor=manager, communication=communication)
    assert error_fields(excinfo) == {"requires_follow_up"}


def test_completing_twice_is_a_conflict_and_keeps_the_first_time(manager):
    communication = CommunicationFactory(requires_follow_up=True, follow_up_date=days_ago(1))
    first = communication_complete_follow_up(actor=manager, communication=communication)
    with pytest.raises(Conflict):
        communication_complete_follow_up(actor=manager, communication=communication)
    communication.refresh_from_db()
    assert communication.follow_up_completed_at == first.follow_up_completed_at


# --- delete -----------------------------------------------------------------------------------


def test_deleting_the_latest_communication_falls_back_to_the_latest_remaining(manager):
    customer, lead = CustomerFactory(), LeadFactory()
    log(manager, customer=customer, lead=lead, communication_date=days_ago(7))
    latest = log(manager, customer=customer, lead=lead, communication_date=days_ago(1))
    communication_delete(actor=manager, communication=latest)
    customer.refresh_from_db()
    lead.refresh_from_db()
    assert customer.last_contacted_at == days_ago(7)
    assert lead.last_contacted_at == days_ago(7)


def test_deleting_the_only_communication_clears_last_contacted(manager):
    customer = CustomerFactory()
    communication_delete(actor=manager, communication=log(manager, customer=customer))
    customer.refresh_from_db()
    assert customer.last_contacted_at is None
    assert not Communication.objects.exists()


def test_a_rep_may_delete_a_communication(rep):
    communication_delete(actor=rep, communication=log(rep, customer=CustomerFactory()))
    assert not Communication.objects.exists()


# --- the database's own guard -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"customer": None},
        {"duration_minutes": -5},
        {"requires_follow_up": True, "follow_up_date": None},
        {"requires_follow_up": False, "follow_up_completed": True},
    ],
)
def test_the_database_refuses_what_the_service_refuses(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        CommunicationFactory(**fields)
