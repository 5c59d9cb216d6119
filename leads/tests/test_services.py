import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communications.models import Communication
from crm_project.core.exceptions import Conflict, PreconditionFailed
from crm_project.core.versioning import etag_for
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads import services
from leads.models import Lead, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def lead_data(**overrides):
    return {
        "company_name": "Tech Solutions Ltd",
        "contact_person": "John Doe",
        "email": "john@techsolutions.com",
        **overrides,
    }


@pytest.fixture
def fixed_today():
    with mock.patch("crm_project.core.numbering.timezone.localdate", return_value=dt.date(2025, 12, 15)):
        yield


# --- create ---------------------------------------------------------------------------------------


def test_create_numbers_leads_per_day_from_0001(manager, fixed_today):
    first = services.lead_create(actor=manager, data=lead_data())
    second = services.lead_create(actor=manager, data=lead_data(email="jane@techsolutions.com"))
    assert (first.lead_number, second.lead_number) == ("LEAD-20251215-0001", "LEAD-20251215-0002")


def test_create_uses_todays_date_in_the_number(manager):
    lead = services.lead_create(actor=manager, data=lead_data())
    assert re.fullmatch(rf"LEAD-{timezone.localdate():%Y%m%d}-0001", lead.lead_number)


def test_a_new_lead_is_always_new_whatever_the_data_says(manager):
    lead = services.lead_create(actor=manager, data=lead_data(status=LeadStatus.CONVERTED, is_qualified=True))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert lead.is_qualified is False


def test_create_records_the_creator(rep):
    lead = services.lead_create(actor=rep, data=lead_data())
    assert lead.created_by == rep


@pytest.mark.parametrize("missing", ["company_name", "contact_person", "email"])
def test_create_requires_company_contact_and_email(manager, missing):
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=manager, data=lead_data(**{missing: ""}))
    assert missing in exc.value.message_dict
    assert not Lead.objects.exists()


def test_email_is_unique_case_insensitively(manager):
    LeadFactory(email="John@TechSolutions.com")
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=manager, data=lead_data(email="john@techsolutions.COM"))
    assert exc.value.message_dict == {"email": ["A lead with this email already exists."]}
    assert Lead.objects.count() == 1


def test_a_refused_create_gives_its_number_back(manager, fixed_today):
    LeadFactory(email="john@techsolutions.com")
    with pytest.raises(ValidationError):
        services.lead_create(actor=manager, data=lead_data())
    lead = services.lead_create(actor=manager, data=lead_data(email="other@techsolutions.com"))
    assert lead.lead_number == "LEAD-20251215-0001"


def test_rep_may_assign_a_new_lead_to_themselves_or_nobody(rep):
    mine = services.lead_create(actor=rep, data=lead_data(assigned_to=rep))
    pool = services.lead_create(actor=rep, data=lead_data(email="pool@example.com", assigned_to=None))
    assert (mine.assigned_to, pool.assigned_to) == (rep, None)


def test_rep_cannot_assign_a_new_lead_to_someone_else(rep, other_rep):
    with pytest.raises(PermissionDenied, match="assigned_to_id"):
        services.lead_create(actor=rep, data=lead_data(assigned_to=other_rep))
    assert not Lead.objects.exists()


def test_manager_assigns_to_anyone(manager, rep):
    assert services.lead_create(actor=manager, data=lead_data(assigned_to=rep)).assigned_to == rep


# --- update ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.LOST])
def test_update_may_set_new_contacted_or_lost(manager, status):
    lead = LeadFactory(status=LeadStatus.CONTACTED if status == LeadStatus.NEW else LeadStatus.NEW)
    assert services.lead_update(actor=manager, lead=lead, data={"status": status}).status == status


@pytest.mark.parametrize("status", [LeadStatus.QUALIFIED, LeadStatus.CONVERTED])
def test_update_cannot_set_qualified_or_converted(manager, status):
    lead = LeadFactory()
    with pytest.raises(ValidationError) as exc:
        services.lead_update(actor=manager, lead=lead, data={"status": status})
    assert "status" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_update_sending_the_current_status_back_is_not_a_change(manager):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    updated = services.lead_update(actor=manager, lead=lead, data={"status": LeadStatus.QUALIFIED, "city": "Pune"})
    assert (updated.status, updated.city, updated.is_qualified) == (LeadStatus.QUALIFIED, "Pune", True)


def test_a_converted_lead_cannot_be_updated_at_all(manager):
    lead = LeadFactory(status=LeadStatus.CONVERTED)
    for data in ({"city": "Pune"}, {"status": LeadStatus.NEW}, {}):
        with pytest.raises(Conflict):
            services.lead_update(actor=manager, lead=lead, data=data)
    lead.refresh_from_db()
    assert lead.city == "" and lead.status == LeadStatus.CONVERTED


def test_a_lost_lead_may_be_reopened_by_update(manager):
    lead = LeadFactory(status=LeadStatus.LOST)
    assert services.lead_update(actor=manager, lead=lead, data={"status": LeadStatus.CONTACTED}).status == "contacted"


def test_moving_a_qualified_lead_back_to_contacted_clears_its_qualification(manager):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    updated = services.lead_update(actor=manager, lead=lead, data={"status": LeadStatus.CONTACTED})
    assert (updated.is_qualified, updated.qualified_at, updated.qualification_score) == (False, None, 80)


def test_a_qualified_lead_marked_lost_keeps_its_qualification(manager):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    updated = services.lead_update(actor=manager, lead=lead, data={"status": LeadStatus.LOST})
    assert updated.is_qualified is True and updated.qualified_at is not None


def test_update_refuses_another_leads_email_in_any_case(manager):
    LeadFactory(email="taken@example.com")
    lead = LeadFactory(email="mine@example.com")
    with pytest.raises(ValidationError) as exc:
        services.lead_update(actor=manager, lead=lead, data={"email": "TAKEN@example.com"})
    assert "email" in exc.value.message_dict


def test_update_may_change_the_case_of_its_own_email(manager):
    lead = LeadFactory(email="mine@example.com")
    assert (
        services.lead_update(actor=manager, lead=lead, data={"email": "Mine@Example.com"}).email == "Mine@Example.com"
    )


def test_update_advances_updated_at_only_when_something_changed(manager):
    lead = LeadFactory(city="Pune")
    unchanged = services.lead_update(actor=manager, lead=lead, data={"city": "Pune"})
    assert unchanged.updated_at == lead.updated_at
    changed = services.lead_update(actor=manager, lead=lead, data={"city": "Delhi"})
    assert changed.updated_at > lead.updated_at


def test_update_with_a_stale_if_match_changes_nothing(manager):
    lead = LeadFactory(city="Pune")
    stale = etag_for(lead)
    services.lead_update(actor=manager, lead=lead, data={"city": "Delhi"})
    with pytest.raises(PreconditionFailed):
        services.lead_update(actor=manager, lead=lead, data={"city": "Goa"}, if_match=stale)
    lead.refresh_from_db()
    assert lead.city == "Delhi"


def test_rep_cannot_hand_their_lead_to_another_rep(rep, other_rep):
    lead = LeadFactory(assigned_to=rep)
    with pytest.raises(PermissionDenied, match="assigned_to_id"):
        services.lead_update(actor=rep, lead=lead, data={"assigned_to": other_rep})
    lead.refresh_from_db()
    assert lead.assigned_to == rep


def test_rep_may_release_their_lead_to_the_pool_and_edit_it_keeping_the_assignee(rep):
    lead = LeadFactory(assigned_to=rep)
    assert services.lead_update(actor=rep, lead=lead, data={"assigned_to": rep, "city": "Pune"}).city == "Pune"
    assert services.lead_update(actor=rep, lead=lead, data={"assigned_to": None}).assigned_to is None


# --- qualify --------------------------------------------------------------------------------------


def test_qualify_sets_score_status_flag_and_time(manager):
    lead = LeadFactory(status=LeadStatus.CONTACTED)
    before = timezone.now()
    qualified = services.lead_qualify(actor=manager, lead=lead, qualification_score=85)
    assert qualified.status == LeadStatus.QUALIFIED
    assert (qualified.qualification_score, qualified.is_qualified) == (85, True)
    assert qualified.qualified_at >= before


def test_qualify_appends_dated_signed_notes(manager):
    lead = LeadFactory(notes="Met at the trade show")
    moment = dt.datetime(2025, 12, 15, 10, 30, tzinfo=dt.UTC)
    with mock.patch("crm_project.core.services.timezone.localtime", return_value=moment):
        qualified = services.lead_qualify(
            actor=manager, lead=lead, qualification_score=85, notes="  Strong prospect - budget confirmed "
        )
    assert (
        qualified.notes == "Met at the trade show\n[2025-12-15 10:30 UTC · manager] Strong prospect - budget confirmed"
    )


def test_notes_are_stamped_in_the_configured_time_zone(manager, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    lead = LeadFactory()
    qualified = services.lead_qualify(actor=manager, lead=lead, qualification_score=50, notes="Call back")
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\d \d\d:\d\d IST · manager\] Call back", qualified.notes)


def test_qualify_without_notes_leaves_notes_alone(manager):
    lead = LeadFactory(notes="Existing")
    assert services.lead_qualify(actor=manager, lead=lead, qualification_score=70, notes="  ").notes == "Existing"


def test_requalifying_keeps_the_first_qualification_time(manager):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    again = services.lead_qualify(actor=manager, lead=lead, qualification_score=90)
    assert again.qualified_at == lead.qualified_at
    assert again.qualification_score == 90


def test_disqualifying_a_qualified_lead_sends_it_back_to_contacted(manager):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    result = services.lead_qualify(actor=manager, lead=lead, qualification_score=20, is_qualified=False)
    assert (result.status, result.is_qualified, result.qualified_at, result.qualification_score) == (
        LeadStatus.CONTACTED,
        False,
        None,
        20,
    )


def test_an_unqualified_score_on_a_new_lead_keeps_it_new(manager):
    result = services.lead_qualify(actor=manager, lead=LeadFactory(), qualification_score=30, is_qualified=False)
    assert (result.status, result.is_qualified, result.qualification_score) == (LeadStatus.NEW, False, 30)


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.LOST])
def test_closed_leads_cannot_be_qualified(manager, status):
    lead = LeadFactory(status=status, notes="")
    with pytest.raises(Conflict):
        services.lead_qualify(actor=manager, lead=lead, qualification_score=90, notes="x")
    lead.refresh_from_db()
    assert (lead.status, lead.qualification_score, lead.notes) == (status, None, "")


@pytest.mark.parametrize("score", [-1, 101, True, 85.5])
def test_qualification_score_must_be_a_whole_number_from_0_to_100(manager, score):
    with pytest.raises(ValidationError) as exc:
        services.lead_qualify(actor=manager, lead=LeadFactory(), qualification_score=score)
    assert "qualification_score" in exc.value.message_dict


# --- convert --------------------------------------------------------------------------------------


def test_convert_into_an_existing_customer(manager):
    customer = CustomerFactory()
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    converted = services.lead_convert(actor=manager, lead=lead, customer=customer, notes="First order placed")
    assert converted.status == LeadStatus.CONVERTED
    assert converted.converted_customer == customer
    assert converted.converted_at is not None
    assert converted.notes.endswith("· manager] First order placed")
    assert Customer.objects.count() == 1


def test_convert_without_a_customer_creates_one_from_the_lead(manager, rep):
    lead = LeadFactory(
        company_name="Tech Solutions Ltd",
        industry="Technology",
        contact_person="John Doe",
        email="john@techsolutions.com",
        phone="+911234567890",
        website="https://techsolutions.com",
        city="Mumbai",
        state="Maharashtra",
        country="India",
        assigned_to=rep,
    )
    converted = services.lead_convert(actor=manager, lead=lead)
    customer = converted.converted_customer
    assert customer.customer_code.startswith("CUST-")
    assert (customer.company_name, customer.industry, customer.contact_person, customer.email) == (
        "Tech Solutions Ltd",
        "Technology",
        "John Doe",
        "john@techsolutions.com",
    )
    assert (customer.phone, customer.website, customer.city, customer.state, customer.country) == (
        "+911234567890",
        "https://techsolutions.com",
        "Mumbai",
        "Maharashtra",
        "India",
    )
    assert customer.account_manager == rep
    assert customer.created_by == manager


def test_a_rep_converts_their_own_and_unassigned_leads(rep):
    mine = services.lead_convert(actor=rep, lead=LeadFactory(assigned_to=rep))
    pooled = services.lead_convert(actor=rep, lead=LeadFactory(assigned_to=None))
    assert mine.converted_customer.account_manager == rep
    assert pooled.converted_customer.account_manager is None


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.LOST])
def test_closed_leads_cannot_be_converted_and_no_customer_is_created(manager, status):
    lead = LeadFactory(status=status)
    customers_before = Customer.objects.count()
    with pytest.raises(Conflict):
        services.lead_convert(actor=manager, lead=lead)
    assert Customer.objects.count() == customers_before


def test_a_failed_conversion_rolls_back_the_new_customer(manager):
    lead = LeadFactory()
    with (
        mock.patch.object(Lead, "save", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        services.lead_convert(actor=manager, lead=lead)
    assert not Customer.objects.exists()


# --- mark lost / contacted, assign ------------------------------------------------------------------


def test_mark_lost_closes_an_open_lead_with_a_note(manager):
    lost = services.lead_mark_lost(actor=manager, lead=LeadFactory(status=LeadStatus.CONTACTED), notes="Went cold")
    assert lost.status == LeadStatus.LOST
    assert "· manager] Went cold" in lost.notes


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.LOST])
def test_mark_lost_refuses_closed_leads(manager, status):
    with pytest.raises(Conflict):
        services.lead_mark_lost(actor=manager, lead=LeadFactory(status=status))


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.LOST])
def test_mark_contacted_moves_new_and_lost_leads(manager, status):
    assert services.lead_mark_contacted(actor=manager, lead=LeadFactory(status=status)).status == "contacted"


@pytest.mark.parametrize("status", [LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.CONVERTED])
def test_mark_contacted_refuses_other_statuses(manager, status):
    lead = LeadFactory(status=status)
    with pytest.raises(Conflict):
        services.lead_mark_contacted(actor=manager, lead=lead)
    lead.refresh_from_db()
    assert lead.status == status


def test_assign_to_me(rep):
    lead = LeadFactory(assigned_to=None)
    assert services.lead_assign(actor=rep, lead=lead, assignee=rep).assigned_to == rep


def test_rep_cannot_assign_to_someone_else(rep, other_rep):
    with pytest.raises(PermissionDenied, match="assigned_to_id"):
        services.lead_assign(actor=rep, lead=LeadFactory(assigned_to=None), assignee=other_rep)


def test_a_converted_lead_cannot_be_reassigned(manager, rep):
    with pytest.raises(Conflict):
        services.lead_assign(actor=manager, lead=LeadFactory(status=LeadStatus.CONVERTED), assignee=rep)


# --- delete ---------------------------------------------------------------------------------------


def test_only_managers_delete_leads(rep, manager):
    lead = LeadFactory(assigned_to=rep)
    with pytest.raises(PermissionDenied):
        services.lead_delete(actor=rep, lead=lead)
    services.lead_delete(actor=manager, lead=lead)
    assert not Lead.objects.exists()


def test_a_lead_with_communications_cannot_be_deleted(manager):
    lead = LeadFactory()
    Communication.objects.create(lead=lead, subject="Intro call")
    with pytest.raises(Conflict, match="communications"):
        services.lead_delete(actor=manager, lead=lead)
    assert Lead.objects.filter(pk=lead.pk).exists()


# --- bookkeeping and the database's own guarantees ---------------------------------------------------


def test_record_contact_moves_the_timestamp_forward_only_and_a_new_lead_becomes_contacted():
    lead = LeadFactory()
    later, earlier = timezone.now(), timezone.now() - dt.timedelta(days=3)
    services.lead_record_contact(actor=None, lead_id=lead.pk, contacted_at=later)
    services.lead_record_contact(actor=None, lead_id=lead.pk, contacted_at=earlier)
    lead.refresh_from_db()
    assert (lead.status, lead.last_contacted_at) == (LeadStatus.CONTACTED, later)


def test_record_contact_leaves_other_statuses_alone():
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    services.lead_record_contact(actor=None, lead_id=lead.pk, contacted_at=timezone.now())
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


@pytest.mark.parametrize(
    "fields",
    [
        {"qualification_score": 101},
        {"qualification_score": -1},
        {"estimated_deal_value": Decimal("-0.01")},
        {"status": LeadStatus.QUALIFIED, "is_qualified": False, "qualified_at": None},
        {"status": LeadStatus.CONTACTED, "is_qualified": True, "qualified_at": timezone.now()},
        {"status": LeadStatus.CONVERTED, "converted_customer": None},
    ],
)
def test_the_database_refuses_inconsistent_leads(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(**fields)


def test_the_database_refuses_a_duplicate_email_in_another_case():
    LeadFactory(email="dup@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(email="DUP@example.com")
