"""Likely duplicates of leads: the keys the services keep, the candidates each persona sees, the API."""

from __future__ import annotations

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_project.core.match_backfill import backfill_match_keys
from crm_project.core.matching import MatchProbe
from leads.models import Lead
from leads.selectors import lead_duplicates
from leads.services import lead_bulk_create, lead_create, lead_update

from .factories import LeadFactory as BaseLeadFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/leads"
CHECK_URL = f"{LIST_URL}/check-duplicates"


class LeadFactory(BaseLeadFactory):
    """Each at a company domain of its own: no shared domain unless a test says so."""

    email = factory.Sequence(lambda n: f"buyer@company{n}.example")


def duplicates_url(lead) -> str:
    return f"{LIST_URL}/{lead.pk}/duplicates"


def lead_data(**fields):
    return {"company_name": "Lotus Retail Pvt Ltd", "contact_person": "Priya Shah", "email": "priya@lotus.in", **fields}


# --- keys kept by the services ---------------------------------------------------------------------


def test_create_and_update_keep_the_keys(manager):
    lead = lead_create(actor=manager, data=lead_data(phone="+91 98450 12345"))
    assert (lead.match_company_name, lead.match_email_domain, lead.match_phone) == (
        "lotus retail",
        "lotus.in",
        "9845012345",
    )
    lead = lead_update(actor=manager, lead=lead, data={"email": "priya@gmail.com", "phone": "", "company_name": "X"})
    lead.refresh_from_db()
    assert (lead.match_company_name, lead.match_email_domain, lead.match_phone) == ("x", "", "")


def test_bulk_create_keeps_the_keys(manager):
    lead_bulk_create(actor=manager, rows={1: lead_data(phone="098450-12345", email="a@acme.example")})
    lead = Lead.objects.get()
    assert (lead.match_company_name, lead.match_email_domain, lead.match_phone) == (
        "lotus retail",
        "acme.example",
        "9845012345",
    )


def test_backfill_fills_in_the_keys_of_rows_written_without_them(manager):
    lead = LeadFactory(company_name="Lotus Retail Pvt Ltd", phone="(984) 501-2345", email="p@lotus.in")
    Lead.objects.filter(pk=lead.pk).update(match_company_name="", match_email_domain="", match_phone="")
    assert backfill_match_keys(connection, Lead._meta.db_table) == 1
    lead.refresh_from_db()
    assert (lead.match_company_name, lead.match_email_domain, lead.match_phone) == (
        "lotus retail",
        "lotus.in",
        "9845012345",
    )


# --- candidates ------------------------------------------------------------------------------------


def test_phone_written_three_ways_matches(manager):
    lead = LeadFactory(phone="+91 98450 12345", company_name="Alpha")
    twin = LeadFactory(phone="098450-12345", company_name="Beta")
    LeadFactory(phone="9845012345", company_name="Gamma")
    found = lead_duplicates(manager, probe=MatchProbe.of_record(lead), exclude_pk=lead.pk)
    assert len(found) == 2
    assert twin.pk in {item["id"] for item in found}
    assert all(item["reasons"] == ["same_phone"] for item in found)


def test_legal_suffix_makes_a_similar_company_name(manager):
    lead = LeadFactory(company_name="Lotus Retail Pvt Ltd")
    twin = LeadFactory(company_name="Lotus Retail")
    LeadFactory(company_name="Zenith Motors")
    found = lead_duplicates(manager, probe=MatchProbe.of_record(lead), exclude_pk=lead.pk)
    assert [(item["id"], item["reasons"]) for item in found] == [(twin.pk, ["similar_company_name"])]


def test_free_mail_domain_gives_no_reason(manager):
    lead = LeadFactory(email="one@gmail.com", company_name="Alpha")
    LeadFactory(email="two@gmail.com", company_name="Beta")
    assert lead_duplicates(manager, probe=MatchProbe.of_record(lead), exclude_pk=lead.pk) == []


def test_best_first_and_the_record_is_not_its_own_duplicate(manager):
    lead = LeadFactory(company_name="Lotus Retail", email="priya@lotus.in", phone="9845012345")
    domain_only = LeadFactory(company_name="Other Co", email="ravi@lotus.in")
    name_and_phone = LeadFactory(company_name="Lotus Retail Ltd", email="x@acme.example", phone="98450 12345")
    name_only = LeadFactory(company_name="Lotus Retail Private Limited", email="y@beta.example")
    found = lead_duplicates(manager, probe=MatchProbe.of_record(lead), exclude_pk=lead.pk)
    assert [item["id"] for item in found] == [name_and_phone.pk, name_only.pk, domain_only.pk]
    assert [item["score"] for item in found] == sorted((item["score"] for item in found), reverse=True)
    assert lead.pk not in {item["id"] for item in found}


def test_a_rep_sees_no_candidates_they_may_not_see(rep, other_rep, manager):
    lead = LeadFactory(company_name="Lotus Retail", assigned_to=rep)
    own = LeadFactory(company_name="Lotus Retail Ltd", assigned_to=rep)
    unassigned = LeadFactory(company_name="Lotus Retail Pvt Ltd", assigned_to=None)
    others = LeadFactory(company_name="Lotus Retail LLP", assigned_to=other_rep)
    probe = MatchProbe.of_record(lead)
    seen_by_rep = {item["id"] for item in lead_duplicates(rep, probe=probe, exclude_pk=lead.pk)}
    seen_by_manager = {item["id"] for item in lead_duplicates(manager, probe=probe, exclude_pk=lead.pk)}
    assert seen_by_rep == {own.pk, unassigned.pk}
    assert seen_by_manager == {own.pk, unassigned.pk, others.pk}


# --- API -------------------------------------------------------------------------------------------


def test_duplicates_of_a_lead_through_the_api(manager_client):
    lead = LeadFactory(company_name="Lotus Retail", email="priya@lotus.in", contact_person="Priya Shah")
    twin = LeadFactory(company_name="Lotus Retail Pvt Ltd", email="PRIYA@lotus.in.old", contact_person="Priya Shah")
    response = manager_client.get(duplicates_url(lead))
    assert response.status_code == 200, response.content
    [item] = response.json()
    assert item == {
        "id": str(twin.pk),
        "score": item["score"],
        "reasons": ["similar_company_name", "similar_contact_name"],
        "company_name": "Lotus Retail Pvt Ltd",
        "contact_person": "Priya Shah",
        "email": "PRIYA@lotus.in.old",
        "phone": "",
        "lead_number": twin.lead_number,
    }
    assert 0 < item["score"] <= 1


def test_duplicates_of_a_lead_the_rep_may_not_see_is_404(rep_client, other_rep):
    lead = LeadFactory(assigned_to=other_rep)
    assert rep_client.get(duplicates_url(lead)).status_code == 404


def test_check_duplicates_before_creating(rep_client, rep, other_rep):
    existing = LeadFactory(email="priya@lotus.in", assigned_to=rep)
    LeadFactory(email="ravi@lotus.in", assigned_to=other_rep)
    response = rep_client.post(
        CHECK_URL,
        {"company_name": "Someone", "email": "Priya@Lotus.in", "source": "website", "notes": "from the fair"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [(item["id"], item["reasons"]) for item in response.json()] == [(str(existing.pk), ["same_email"])]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"contact_person": "Priya"}, "non_field_errors"),
        ({"company_name": "  ", "email": ""}, "non_field_errors"),
        ({"email": 12}, "email"),
        ({"company_name": ["Lotus"]}, "company_name"),
        ({"phone": "9" * 51}, "phone"),
        ({"company_name": None}, "company_name"),
    ],
)
def test_check_duplicates_refuses_bad_bodies_naming_the_field(manager_client, body, field):
    response = manager_client.post(CHECK_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_check_duplicates_refuses_a_body_that_is_not_an_object(manager_client):
    response = manager_client.post(CHECK_URL, ["Lotus"], format="json")
    assert response.status_code == 400


def test_duplicates_take_a_fixed_number_of_queries(manager_client):
    lead = LeadFactory(company_name="Lotus Retail", email="a@lotus.in", phone="9845012345")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(duplicates_url(lead)).status_code == 200
        return len(captured)

    few = count_queries()
    for n in range(15):
        LeadFactory(company_name=f"Lotus Retail {n}", email=f"b{n}@lotus.in", phone="+91 98450 12345")
    assert len(manager_client.get(duplicates_url(lead)).json()) == 15
    assert count_queries() == few
