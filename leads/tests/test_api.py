import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.models import Communication
from leads.models import Lead, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/leads"

# The API guide's "Create Lead" example, exactly as written.
SEED_CREATE = {
    "company_name": "Tech Solutions Ltd",
    "industry": "Technology",
    "company_size": "50-100",
    "website": "https://techsolutions.com",
    "contact_person": "John Doe",
    "title_position": "Purchasing Manager",
    "email": "john@techsolutions.com",
    "phone": "+911234567890",
    "city": "Mumbai",
    "state": "Maharashtra",
    "country": "India",
    "source": "website",
    "priority": "high",
    "estimated_deal_value": 50000.00,
    "requirements": "Looking for bulk garments for corporate uniforms",
}

CONTRACT_FIELDS = {
    "id",
    "lead_number",
    "company_name",
    "industry",
    "company_size",
    "website",
    "contact_person",
    "title_position",
    "email",
    "phone",
    "city",
    "state",
    "country",
    "source",
    "status",
    "priority",
    "estimated_deal_value",
    "requirements",
    "notes",
    "qualification_score",
    "is_qualified",
    "qualified_at",
    "assigned_to_id",
    "next_follow_up_date",
    "last_contacted_at",
    "converted_customer_id",
    "converted_at",
    "created_by_id",
    "created_at",
    "updated_at",
}


def detail_url(lead) -> str:
    return f"{LIST_URL}/{lead.pk}"


# --- create ---------------------------------------------------------------------------------------


def test_the_seed_create_example_works_as_written(manager_client, manager):
    response = manager_client.post(LIST_URL, SEED_CREATE, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == CONTRACT_FIELDS | {"assigned_to_name"}
    assert re.fullmatch(rf"LEAD-{timezone.localdate():%Y%m%d}-0001", body["lead_number"])
    assert body["status"] == "new"
    assert body["estimated_deal_value"] == 50000.0
    assert body["created_by_id"] == manager.pk
    assert body["assigned_to_id"] is None and body["assigned_to_name"] is None
    assert body["is_qualified"] is False and body["qualification_score"] is None
    assert {key: body[key] for key in SEED_CREATE} == SEED_CREATE
    assert response["ETag"]


def test_lead_numbers_are_sequential_and_the_slashed_path_works_too(manager_client):
    first = manager_client.post(LIST_URL, SEED_CREATE, format="json").json()["lead_number"]
    second = manager_client.post(
        LIST_URL + "/", {**SEED_CREATE, "email": "jane@techsolutions.com"}, format="json"
    ).json()["lead_number"]
    assert (first[-4:], second[-4:]) == ("0001", "0002")


@pytest.mark.parametrize("field", ["company_name", "contact_person", "email"])
def test_create_requires_company_contact_and_email(manager_client, field):
    body = {key: value for key, value in SEED_CREATE.items() if key != field}
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("website", "not a url"),
        ("source", "carrier_pigeon"),
        ("priority", "whenever"),
        ("estimated_deal_value", -1),
        ("estimated_deal_value", "1e30"),
        ("estimated_deal_value", "NaN"),
        ("assigned_to_id", 999999),
        ("assigned_to_id", "abc"),
        ("assigned_to_id", 10**30),
        ("next_follow_up_date", "tomorrow"),
        ("next_follow_up_date", "2025-02-30"),
        ("company_name", "x" * 201),
        ("company_name", "   "),
        ("company_name", None),
        ("email", ["a@b.com"]),
    ],
)
def test_create_rejects_invalid_values_naming_the_field(manager_client, field, value):
    response = manager_client.post(LIST_URL, {**SEED_CREATE, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Lead.objects.exists()


def test_an_inactive_user_cannot_be_assigned(manager_client, rep):
    rep.is_active = False
    rep.save()
    response = manager_client.post(LIST_URL, {**SEED_CREATE, "assigned_to_id": rep.pk}, format="json")
    assert response.status_code == 400
    assert "assigned_to_id" in response.json()


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_400(manager_client, body):
    assert manager_client.post(LIST_URL, body, format="json").status_code == 400


def test_malformed_json_is_400(manager_client):
    response = manager_client.post(LIST_URL, data=b'{"company_name": ', content_type="application/json")
    assert response.status_code == 400


def test_a_duplicate_email_in_another_case_is_400_on_email(manager_client):
    LeadFactory(email="John@TechSolutions.com")
    response = manager_client.post(LIST_URL, SEED_CREATE, format="json")
    assert response.status_code == 400
    assert response.json() == {"email": ["A lead with this email already exists."]}


def test_read_only_fields_in_the_body_are_ignored(manager_client, rep):
    response = manager_client.post(
        LIST_URL,
        {
            **SEED_CREATE,
            "id": "00000000-0000-0000-0000-000000000000",
            "lead_number": "LEAD-19990101-9999",
            "status": "converted",
            "qualification_score": 99,
            "is_qualified": True,
            "qualified_at": "2020-01-01T00:00:00Z",
            "converted_customer_id": "00000000-0000-0000-0000-000000000001",
            "created_by_id": rep.pk,
            "last_contacted_at": "2020-01-01T00:00:00Z",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 201
    assert body["id"] != "00000000-0000-0000-0000-000000000000"
    assert body["lead_number"] != "LEAD-19990101-9999"
    assert (body["status"], body["qualification_score"], body["is_qualified"]) == ("new", None, False)
    assert body["converted_customer_id"] is None and body["last_contacted_at"] is None
    assert body["created_by_id"] != rep.pk


def test_a_follow_up_date_may_be_a_plain_date_meaning_midnight_in_time_zone(manager_client, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    response = manager_client.post(LIST_URL, {**SEED_CREATE, "next_follow_up_date": "2025-12-20"}, format="json")
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.next_follow_up_date == dt.datetime(2025, 12, 19, 18, 30, tzinfo=dt.UTC)
    assert response.json()["next_follow_up_date"] == "2025-12-20T00:00:00+05:30"


def test_follow_up_dates_at_the_edges_of_the_calendar_are_400_not_500(manager_client, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # midnight of 0001-01-01 there is before year 1 in UTC
    early = manager_client.post(LIST_URL, {**SEED_CREATE, "next_follow_up_date": "0001-01-01"}, format="json")
    assert early.status_code == 400 and "next_follow_up_date" in early.json()
    late = manager_client.post(LIST_URL, {**SEED_CREATE, "next_follow_up_date": "9999-12-31"}, format="json")
    assert late.status_code == 201


def test_a_follow_up_timestamp_is_kept_as_sent(manager_client):
    response = manager_client.post(
        LIST_URL, {**SEED_CREATE, "next_follow_up_date": "2025-12-20T10:00:00Z"}, format="json"
    )
    assert response.json()["next_follow_up_date"] == "2025-12-20T10:00:00Z"


def test_rep_creates_a_lead_for_themselves_but_not_for_another_rep(rep_client, rep, other_rep):
    mine = rep_client.post(LIST_URL, {**SEED_CREATE, "assigned_to_id": rep.pk}, format="json")
    assert mine.status_code == 201
    assert mine.json()["assigned_to_name"]

    theirs = rep_client.post(
        LIST_URL, {**SEED_CREATE, "email": "x@example.com", "assigned_to_id": other_rep.pk}, format="json"
    )
    assert theirs.status_code == 403
    assert "assigned_to_id" in theirs.json()["detail"]
    assert Lead.objects.count() == 1


# --- read, update, delete ---------------------------------------------------------------------------


def test_read_a_lead_with_its_etag(manager_client, rep):
    lead = LeadFactory(assigned_to=rep)
    response = manager_client.get(detail_url(lead))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(lead.pk)
    assert body["assigned_to_id"] == rep.pk
    assert body["assigned_to_name"] == rep.get_full_name()
    assert response["ETag"]


def test_unknown_or_malformed_id_is_404(manager_client):
    assert manager_client.get(f"{LIST_URL}/not-a-uuid").status_code == 404
    assert manager_client.get(f"{LIST_URL}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert manager_client.post(f"{LIST_URL}/not-a-uuid/qualify", {}, format="json").status_code == 404


def test_put_and_patch_both_accept_a_partial_body(manager_client):
    lead = LeadFactory(company_name="Old", city="Pune")
    put = manager_client.put(detail_url(lead), {"company_name": "New"}, format="json")
    patch = manager_client.patch(detail_url(lead) + "/", {"city": "Delhi"}, format="json")
    assert put.status_code == 200 and patch.status_code == 200
    lead.refresh_from_db()
    assert (lead.company_name, lead.city) == ("New", "Delhi")


def test_update_changes_the_etag_and_a_stale_if_match_is_412(manager_client):
    lead = LeadFactory()
    etag = manager_client.get(detail_url(lead))["ETag"]
    first = manager_client.patch(detail_url(lead), {"city": "Surat"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    stale = manager_client.patch(detail_url(lead), {"city": "Goa"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    lead.refresh_from_db()
    assert lead.city == "Surat"


@pytest.mark.parametrize("status", ["new", "contacted", "lost"])
def test_update_may_set_new_contacted_or_lost(manager_client, status):
    lead = LeadFactory(status=LeadStatus.CONTACTED if status == "new" else LeadStatus.NEW)
    response = manager_client.patch(detail_url(lead), {"status": status}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == status


@pytest.mark.parametrize("status", ["qualified", "converted"])
def test_update_cannot_set_qualified_or_converted(manager_client, status):
    lead = LeadFactory()
    response = manager_client.patch(detail_url(lead), {"status": status}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_update_with_an_unknown_status_is_400(manager_client):
    response = manager_client.patch(detail_url(LeadFactory()), {"status": "bogus"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_update_of_a_converted_lead_is_409(manager_client):
    lead = LeadFactory(status=LeadStatus.CONVERTED)
    response = manager_client.patch(detail_url(lead), {"city": "Pune"}, format="json")
    assert response.status_code == 409
    assert "converted" in response.json()["detail"]


def test_a_lost_lead_is_reopened_by_update(manager_client):
    lead = LeadFactory(status=LeadStatus.LOST)
    assert manager_client.put(detail_url(lead), {"status": "contacted"}, format="json").json()["status"] == "contacted"


def test_update_to_another_leads_email_is_400(manager_client):
    LeadFactory(email="taken@example.com")
    response = manager_client.patch(detail_url(LeadFactory()), {"email": "Taken@Example.com"}, format="json")
    assert response.status_code == 400 and "email" in response.json()


def test_update_ignores_qualification_fields(manager_client):
    lead = LeadFactory()
    response = manager_client.patch(
        detail_url(lead), {"qualification_score": 90, "is_qualified": True, "city": "Pune"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["qualification_score"], response.json()["is_qualified"]) == (None, False)


def test_manager_deletes_a_lead(manager_client):
    lead = LeadFactory()
    assert manager_client.delete(detail_url(lead)).status_code == 204
    assert not Lead.objects.exists()


def test_rep_cannot_delete_even_their_own_lead(rep_client, rep):
    lead = LeadFactory(assigned_to=rep)
    assert rep_client.delete(detail_url(lead)).status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_deleting_a_lead_with_communications_is_409(manager_client):
    lead = LeadFactory()
    Communication.objects.create(lead=lead, subject="Intro call")
    response = manager_client.delete(detail_url(lead))
    assert response.status_code == 409
    assert "communications" in response.json()["detail"]


# --- list, filters, ordering ------------------------------------------------------------------------


def test_list_is_paginated_newest_first(manager_client):
    older = LeadFactory(created_at=timezone.now() - dt.timedelta(days=1))
    newer = LeadFactory()
    body = manager_client.get(f"{LIST_URL}?page=1&page_size=50").json()
    assert {"count", "page", "page_size", "total_pages", "next", "previous", "results"} <= set(body)
    assert [row["id"] for row in body["results"]] == [str(newer.pk), str(older.pk)]


def test_the_seed_list_example_works(manager_client, rep):
    wanted = LeadFactory(company_name="Tech Corp", status=LeadStatus.NEW, assigned_to=rep)
    LeadFactory(company_name="Tech Other", status=LeadStatus.CONTACTED, assigned_to=rep)
    response = manager_client.get(f"{LIST_URL}?page=1&page_size=50&status=new&search=Tech&assigned_to_id={rep.pk}")
    assert [row["id"] for row in response.json()["results"]] == [str(wanted.pk)]


def test_each_filter_narrows_the_list(manager_client, rep):
    now = timezone.now()
    wanted = LeadFactory(
        company_name="Zeta Textiles",
        contact_person="Zoe Quinn",
        email="zoe@zeta.example",
        status=LeadStatus.QUALIFIED,
        source="trade_show",
        priority="urgent",
        assigned_to=rep,
        created_at=now - dt.timedelta(days=10),
    )
    LeadFactory(
        company_name="Other",
        contact_person="Someone",
        email="someone@other.example",
        status=LeadStatus.NEW,
        source="website",
        priority="low",
        created_at=now - dt.timedelta(days=40),
    )
    LeadFactory(company_name="Third", email="third@other.example", priority="low", created_at=now)
    ten_days_ago = (now - dt.timedelta(days=10)).date().isoformat()
    twenty_days_ago = (now - dt.timedelta(days=20)).date().isoformat()
    five_days_ago = (now - dt.timedelta(days=5)).date().isoformat()

    for query in [
        "status=qualified",
        "source=trade_show",
        "priority=urgent",
        f"assigned_to_id={rep.pk}",
        "is_qualified=true",
        "search=zeta tex",
        "search=ZOE",
        "search=zoe@zeta",
        f"search={wanted.lead_number.lower()}",
        f"created_after={twenty_days_ago}&created_before={five_days_ago}",
        f"created_after={ten_days_ago}&created_before={ten_days_ago}",
    ]:
        results = manager_client.get(f"{LIST_URL}?{query}").json()["results"]
        assert [row["id"] for row in results] == [str(wanted.pk)], query

    assert len(manager_client.get(f"{LIST_URL}?is_qualified=false").json()["results"]) == 2


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "source=fax",
        "priority=meh",
        "is_qualified=maybe",
        "assigned_to_id=abc",
        "assigned_to_id=1.5",
        "created_after=yesterday",
        "created_before=2025-13-01",
        "ordering=password",
        "search=%00",
        "created_before=9999-12-31",  # no day after it to end the range at
        "created_after=0001-01-01T00:00:00%2B05:00",  # before the first representable UTC instant
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize(
    "field",
    [
        "created_at",
        "updated_at",
        "lead_number",
        "company_name",
        "estimated_deal_value",
        "qualification_score",
        "next_follow_up_date",
    ],
)
def test_list_orders_by_each_documented_field(manager_client, field):
    LeadFactory(company_name="Beta", estimated_deal_value=2, status=LeadStatus.QUALIFIED)
    LeadFactory(company_name="Alpha", estimated_deal_value=1)
    ascending = manager_client.get(f"{LIST_URL}?ordering={field}")
    descending = manager_client.get(f"{LIST_URL}?ordering=-{field}")
    assert ascending.status_code == 200 and descending.status_code == 200
    assert len(ascending.json()["results"]) == 2


def test_ordering_by_company_name(manager_client):
    LeadFactory(company_name="Beta")
    LeadFactory(company_name="Alpha")
    names = [row["company_name"] for row in manager_client.get(f"{LIST_URL}?ordering=company_name").json()["results"]]
    assert names == ["Alpha", "Beta"]


def test_a_page_past_the_end_is_404(manager_client):
    LeadFactory()
    assert manager_client.get(f"{LIST_URL}?page=2").status_code == 404


def test_list_query_count_does_not_grow_with_page_size(manager_client, rep, django_assert_max_num_queries):
    LeadFactory.create_batch(5, assigned_to=rep)
    with django_assert_max_num_queries(6) as small:
        assert len(manager_client.get(LIST_URL, {"page_size": 5}).json()["results"]) == 5
    LeadFactory.create_batch(45, assigned_to=rep)
    with django_assert_max_num_queries(6) as large:
        assert len(manager_client.get(LIST_URL).json()["results"]) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


# --- who sees what -------------------------------------------------------------------------------------


def test_rep_lists_their_own_and_unassigned_leads_only(rep_client, rep, other_rep):
    mine, pooled = LeadFactory(assigned_to=rep), LeadFactory(assigned_to=None)
    LeadFactory(assigned_to=other_rep)
    ids = {row["id"] for row in rep_client.get(LIST_URL).json()["results"]}
    assert ids == {str(mine.pk), str(pooled.pk)}
    # Filtering by another rep does not reveal their leads.
    assert rep_client.get(f"{LIST_URL}?assigned_to_id={other_rep.pk}").json()["results"] == []


def test_another_reps_lead_is_404_everywhere(rep_client, other_rep):
    theirs = LeadFactory(assigned_to=other_rep)
    url = detail_url(theirs)
    assert rep_client.get(url).status_code == 404
    assert rep_client.patch(url, {"city": "Pune"}, format="json").status_code == 404
    assert rep_client.put(url, {"city": "Pune"}, format="json").status_code == 404
    assert rep_client.delete(url).status_code == 404
    assert rep_client.post(f"{url}/qualify", {"qualification_score": 80}, format="json").status_code == 404
    assert rep_client.post(f"{url}/convert", {}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.city, theirs.status) == ("", LeadStatus.NEW)


def test_rep_updates_an_unassigned_lead_and_takes_it(rep_client, rep):
    lead = LeadFactory(assigned_to=None)
    response = rep_client.patch(detail_url(lead), {"assigned_to_id": rep.pk, "status": "contacted"}, format="json")
    assert response.status_code == 200
    assert (response.json()["assigned_to_id"], response.json()["status"]) == (rep.pk, "contacted")


def test_rep_cannot_hand_a_lead_to_another_rep(rep_client, rep, other_rep):
    lead = LeadFactory(assigned_to=rep)
    response = rep_client.patch(detail_url(lead), {"assigned_to_id": other_rep.pk}, format="json")
    assert response.status_code == 403
    assert "assigned_to_id" in response.json()["detail"]


def test_no_role_user_gets_403_and_anonymous_401(no_role_client, anon_client):
    assert no_role_client.get(LIST_URL).status_code == 403
    assert no_role_client.post(LIST_URL, SEED_CREATE, format="json").status_code == 403
    response = anon_client.get(LIST_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_router_names_resolve():
    assert reverse("lead-list") == "/api/v1/crm/leads"
    assert reverse("lead-follow-ups-today") == "/api/v1/crm/leads/follow-ups/today"
    assert reverse("lead-analytics-summary") == "/api/v1/crm/leads/analytics/summary"
