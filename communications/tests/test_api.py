import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communications.models import Communication
from customers.tests.factories import CustomerFactory
from leads.models import LeadStatus

from .factories import CommunicationFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/communications"
PENDING_URL = f"{LIST_URL}/follow-ups/pending"
CONTRACT_FIELDS = {
    "id",
    "customer_id",
    "lead_id",
    "opportunity_id",
    "our_representative_id",
    "type",
    "direction",
    "subject",
    "content",
    "contact_person",
    "communication_date",
    "duration_minutes",
    "requires_follow_up",
    "follow_up_date",
    "follow_up_completed",
    "follow_up_completed_at",
    "attachments",
    "created_at",
    "updated_at",
}
CONVENIENCES = {"customer_name", "representative_name", "is_overdue"}
NOW = timezone.now()


def detail_url(communication) -> str:
    return f"{LIST_URL}/{communication.pk}"


def complete_url(communication) -> str:
    return f"{LIST_URL}/{communication.pk}/complete-follow-up"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# --- create -----------------------------------------------------------------------------------


def test_the_seeds_example_body_logs_a_communication(manager_client, manager):
    customer = CustomerFactory(company_name="Tech Solutions Ltd")
    body = {
        "customer_id": str(customer.pk),
        "our_representative_id": str(manager.pk),
        "type": "phone",
        "direction": "outbound",
        "subject": "Follow-up on bulk order inquiry",
        "content": "Discussed winter collection requirements. Customer interested in 500 units. "
        "Needs detailed quotation.",
        "contact_person": "John Doe",
        "duration_minutes": 15,
        "requires_follow_up": True,
        "follow_up_date": "2025-12-20T10:00:00Z",
    }

    response = manager_client.post(LIST_URL, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == CONTRACT_FIELDS | CONVENIENCES
    assert data["customer_id"] == str(customer.pk)
    assert data["customer_name"] == "Tech Solutions Ltd"
    assert data["our_representative_id"] == manager.pk
    assert data["lead_id"] is None and data["opportunity_id"] is None
    assert (data["type"], data["direction"], data["duration_minutes"]) == ("phone", "outbound", 15)
    assert data["follow_up_date"] == "2025-12-20T10:00:00Z"
    assert data["requires_follow_up"] is True and data["follow_up_completed"] is False
    assert data["is_overdue"] is True  # 2025-12-20 has passed
    assert data["attachments"] == []
    assert response["ETag"]
    customer.refresh_from_db()
    assert customer.last_contacted_at is not None


def test_defaults_representative_date_type_and_direction(rep_client, rep):
    response = rep_client.post(LIST_URL, {"customer_id": str(CustomerFactory().pk), "subject": "Hi"}, format="json")
    data = response.json()
    assert response.status_code == 201
    assert data["our_representative_id"] == rep.pk
    assert data["representative_name"] == rep.get_full_name()
    assert (data["type"], data["direction"]) == ("other", "outbound")
    assert data["communication_date"] is not None


def test_a_plain_date_is_accepted_as_its_midnight(manager_client):
    response = manager_client.post(
        LIST_URL,
        {"customer_id": str(CustomerFactory().pk), "subject": "Hi", "communication_date": "2025-12-15"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["communication_date"] == "2025-12-15T00:00:00Z"


def test_an_opportunity_alone_brings_its_customer(manager_client):
    opportunity = OpportunityFactory()
    response = manager_client.post(LIST_URL, {"opportunity_id": str(opportunity.pk), "subject": "Hi"}, format="json")
    assert response.json()["customer_id"] == str(opportunity.customer_id)


def test_a_communication_about_a_lead_marks_it_contacted(manager_client):
    lead = LeadFactory(status=LeadStatus.NEW)
    manager_client.post(LIST_URL, {"lead_id": str(lead.pk), "subject": "Intro call"}, format="json")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    assert lead.last_contacted_at is not None


def test_nothing_to_be_about_is_400_non_field_errors(manager_client):
    response = manager_client.post(LIST_URL, {"subject": "Hi"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_customer_that_is_not_the_opportunitys_is_400_on_customer_id(manager_client):
    response = manager_client.post(
        LIST_URL,
        {"opportunity_id": str(OpportunityFactory().pk), "customer_id": str(CustomerFactory().pk), "subject": "Hi"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"customer_id"}


def test_a_required_follow_up_without_a_date_is_400_on_follow_up_date(manager_client):
    response = manager_client.post(
        LIST_URL,
        {"customer_id": str(CustomerFactory().pk), "subject": "Hi", "requires_follow_up": True},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"follow_up_date"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", ""),
        ("subject", "x" * 301),
        ("type", "carrier_pigeon"),
        ("direction", "sideways"),
        ("duration_minutes", -1),
        ("duration_minutes", 10**12),
        ("duration_minutes", "long"),
        ("attachments", {"name": "a.pdf"}),
        ("attachments", "a.pdf"),
        ("customer_id", "not-a-uuid"),
        ("customer_id", "00000000-0000-0000-0000-000000000000"),
        ("lead_id", 12),
        ("communication_date", "yesterday"),
        ("communication_date", None),
        ("follow_up_date", "2025-13-45"),
        ("our_representative_id", 999999),
        ("our_representative_id", None),
        ("requires_follow_up", "perhaps"),
    ],
)
def test_invalid_values_are_400_naming_the_field(manager_client, field, value):
    body = {"customer_id": str(CustomerFactory().pk), "subject": "Hi", field: value}
    response = manager_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Communication.objects.exists()


def test_subject_is_required(manager_client):
    response = manager_client.post(LIST_URL, {"customer_id": str(CustomerFactory().pk)}, format="json")
    assert response.status_code == 400
    assert "subject" in response.json()


def test_attachments_are_kept_as_a_json_list(manager_client):
    attachments = [{"name": "quote.pdf", "url": "https://files.example/quote.pdf"}, "notes.txt"]
    response = manager_client.post(
        LIST_URL,
        {"customer_id": str(CustomerFactory().pk), "subject": "Hi", "attachments": attachments},
        format="json",
    )
    assert response.json()["attachments"] == attachments


def test_read_only_fields_in_the_body_are_ignored(manager_client, manager):
    response = manager_client.post(
        LIST_URL,
        {
            "customer_id": str(CustomerFactory().pk),
            "subject": "Hi",
            "id": "00000000-0000-0000-0000-000000000000",
            "follow_up_completed": True,
            "follow_up_completed_at": "2025-01-01T00:00:00Z",
            "created_at": "2020-01-01T00:00:00Z",
            "is_overdue": True,
        },
        format="json",
    )
    data = response.json()
    assert response.status_code == 201
    assert data["id"] != "00000000-0000-0000-0000-000000000000"
    assert data["follow_up_completed"] is False and data["follow_up_completed_at"] is None
    assert not data["created_at"].startswith("2020")


def test_malformed_json_is_400(manager_client):
    response = manager_client.post(LIST_URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_a_rep_naming_another_representative_is_403_naming_the_field(rep_client, other_rep):
    response = rep_client.post(
        LIST_URL,
        {"customer_id": str(CustomerFactory().pk), "subject": "Hi", "our_representative_id": other_rep.pk},
        format="json",
    )
    assert response.status_code == 403
    assert "our_representative_id" in response.json()["detail"]
    assert not Communication.objects.exists()


def test_a_rep_cannot_link_another_reps_lead_or_opportunity(rep_client, other_rep):
    for field, record in [
        ("lead_id", LeadFactory(assigned_to=other_rep)),
        ("opportunity_id", OpportunityFactory(owner=other_rep)),
    ]:
        response = rep_client.post(LIST_URL, {field: str(record.pk), "subject": "Hi"}, format="json")
        assert response.status_code == 400
        assert "does not exist" in response.json()[field][0]


def test_a_rep_may_log_about_an_unassigned_lead(rep_client):
    lead = LeadFactory(assigned_to=None)
    response = rep_client.post(LIST_URL, {"lead_id": str(lead.pk), "subject": "Hi"}, format="json")
    assert response.status_code == 201


# --- read, update, delete ---------------------------------------------------------------------


def test_put_and_patch_both_accept_a_partial_body(manager_client):
    communication = CommunicationFactory(subject="Old", content="Old")
    put = manager_client.put(detail_url(communication), {"subject": "New"}, format="json")
    patch = manager_client.patch(detail_url(communication) + "/", {"content": "Changed"}, format="json")
    assert put.status_code == 200 and patch.status_code == 200
    communication.refresh_from_db()
    assert (communication.subject, communication.content) == ("New", "Changed")


def test_update_with_a_stale_if_match_is_412(manager_client):
    communication = CommunicationFactory()
    etag = manager_client.get(detail_url(communication))["ETag"]
    assert (
        manager_client.patch(detail_url(communication), {"subject": "A"}, format="json", HTTP_IF_MATCH=etag).status_code
        == 200
    )
    response = manager_client.patch(detail_url(communication), {"subject": "B"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    communication.refresh_from_db()
    assert communication.subject == "A"


def test_update_validates_the_merged_state(manager_client):
    communication = CommunicationFactory()
    response = manager_client.patch(detail_url(communication), {"requires_follow_up": True}, format="json")
    assert response.status_code == 400
    assert "follow_up_date" in response.json()


def test_making_a_completed_follow_up_not_required_is_409(manager_client):
    communication = CommunicationFactory(
        requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True, follow_up_completed_at=NOW
    )
    response = manager_client.patch(detail_url(communication), {"requires_follow_up": False}, format="json")
    assert response.status_code == 409


def test_delete_is_204_and_the_customer_falls_back(manager_client):
    customer = CustomerFactory()
    CommunicationFactory(customer=customer, communication_date=days_ago(5))
    latest = CommunicationFactory(customer=customer, communication_date=days_ago(1))
    assert manager_client.delete(detail_url(latest)).status_code == 204
    customer.refresh_from_db()
    assert customer.last_contacted_at == days_ago(5)


def test_unknown_or_malformed_id_is_404(manager_client):
    assert manager_client.get(f"{LIST_URL}/not-a-uuid").status_code == 404
    assert manager_client.get(f"{LIST_URL}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert manager_client.post(f"{LIST_URL}/not-a-uuid/complete-follow-up").status_code == 404


# --- list: filters, search, ordering ----------------------------------------------------------


def test_list_is_newest_first(manager_client):
    old = CommunicationFactory(communication_date=days_ago(3))
    new = CommunicationFactory(communication_date=days_ago(1))
    middle = CommunicationFactory(communication_date=days_ago(2))
    assert ids(manager_client.get(LIST_URL)) == [str(new.pk), str(middle.pk), str(old.pk)]


def test_list_filters(manager_client, rep):
    lead, opportunity = LeadFactory(), OpportunityFactory()
    wanted = CommunicationFactory(
        type="meeting",
        direction="inbound",
        customer=opportunity.customer,
        lead=lead,
        opportunity=opportunity,
        our_representative=rep,
        requires_follow_up=True,
        follow_up_date=NOW,
        subject="Winter collection",
        content="Jackets and sweaters",
        communication_date=days_ago(10),
    )
    CommunicationFactory(type="phone", direction="outbound", subject="Other", communication_date=days_ago(1))

    for query in [
        "type=meeting",
        "direction=inbound",
        f"customer_id={opportunity.customer_id}",
        f"lead_id={lead.pk}",
        f"opportunity_id={opportunity.pk}",
        f"representative_id={rep.pk}",
        "requires_follow_up=true",
        "search=WINTER",
        "search=sweaters",
        f"date_before={days_ago(5).date().isoformat()}",
    ]:
        assert ids(manager_client.get(f"{LIST_URL}?{query}")) == [str(wanted.pk)], query


def test_date_filters_are_inclusive_days_or_exact_timestamps(manager_client):
    day = dt.date(2025, 6, 10)
    midnight = dt.datetime(2025, 6, 10, tzinfo=dt.UTC)
    first = CommunicationFactory(communication_date=midnight)
    last = CommunicationFactory(communication_date=midnight + dt.timedelta(days=1, microseconds=-1))
    CommunicationFactory(communication_date=midnight - dt.timedelta(microseconds=1))
    CommunicationFactory(communication_date=midnight + dt.timedelta(days=1))

    same_day = f"{LIST_URL}?date_after={day}&date_before={day}"
    assert set(ids(manager_client.get(same_day))) == {str(first.pk), str(last.pk)}
    stamp = f"{LIST_URL}?date_after=2025-06-10T00:00:00Z&date_before=2025-06-10T00:00:00Z"
    assert ids(manager_client.get(stamp)) == [str(first.pk)]


def test_ordering_by_the_contracts_fields(manager_client):
    short = CommunicationFactory(duration_minutes=5)
    long = CommunicationFactory(duration_minutes=50)
    assert ids(manager_client.get(f"{LIST_URL}?ordering=duration_minutes")) == [str(short.pk), str(long.pk)]
    assert ids(manager_client.get(f"{LIST_URL}?ordering=-duration_minutes")) == [str(long.pk), str(short.pk)]
    for field in ["communication_date", "created_at", "follow_up_date"]:
        assert manager_client.get(f"{LIST_URL}?ordering={field}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "type=bogus",
        "direction=up",
        "customer_id=not-a-uuid",
        "lead_id=123",
        "opportunity_id=x",
        "representative_id=abc",
        "requires_follow_up=maybe",
        "date_after=yesterday",
        "date_before=2025-02-30",
        "date_before=9999-12-31",
        "date_after=0001-01-01T00:00:00%2B14:00",
        "ordering=subject",
        "page=0",
        "page_size=-1",
    ],
)
def test_bad_query_values_are_400_naming_the_parameter(manager_client, query):
    response = manager_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_an_out_of_range_representative_id_is_400_not_a_crash(manager_client):
    CommunicationFactory()
    for value in ["99999999999999999999999", "1.5", "0"]:
        response = manager_client.get(f"{LIST_URL}?representative_id={value}")
        assert response.status_code == 400
        assert "representative_id" in response.json()


def test_a_page_past_the_end_is_404(manager_client):
    CommunicationFactory()
    assert manager_client.get(f"{LIST_URL}?page=2").status_code == 404


# --- histories --------------------------------------------------------------------------------


@pytest.mark.parametrize("about", ["customer", "lead", "opportunity"])
def test_a_history_lists_that_records_communications_newest_first(manager_client, about):
    record = {"customer": CustomerFactory, "lead": LeadFactory, "opportunity": OpportunityFactory}[about]()
    old = CommunicationFactory(**{about: record}, communication_date=days_ago(9))
    new = CommunicationFactory(**{about: record}, communication_date=days_ago(1))
    CommunicationFactory(communication_date=days_ago(5))  # about something else

    response = manager_client.get(f"{LIST_URL}/{about}/{record.pk}?page=1&page_size=50")

    assert ids(response) == [str(new.pk), str(old.pk)]
    assert set(response.json()) == {"count", "page", "page_size", "total_pages", "next", "previous", "results"}
    assert ids(manager_client.get(f"{LIST_URL}/{about}/{record.pk}/")) == [str(new.pk), str(old.pk)]


def test_a_history_is_paginated(manager_client):
    customer = CustomerFactory()
    CommunicationFactory.create_batch(3, customer=customer)
    body = manager_client.get(f"{LIST_URL}/customer/{customer.pk}?page_size=2").json()
    assert (body["count"], body["total_pages"], len(body["results"])) == (3, 2, 2)


@pytest.mark.parametrize("about", ["customer", "lead", "opportunity"])
def test_the_history_of_an_unknown_or_malformed_record_is_404(manager_client, about):
    assert manager_client.get(f"{LIST_URL}/{about}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert manager_client.get(f"{LIST_URL}/{about}/not-a-uuid").status_code == 404


def test_the_history_of_another_reps_lead_or_opportunity_is_404(rep_client, other_rep):
    lead = LeadFactory(assigned_to=other_rep)
    opportunity = OpportunityFactory(owner=other_rep)
    CommunicationFactory(lead=lead, our_representative=other_rep)
    assert rep_client.get(f"{LIST_URL}/lead/{lead.pk}").status_code == 404
    assert rep_client.get(f"{LIST_URL}/opportunity/{opportunity.pk}").status_code == 404


def test_a_customer_history_lists_only_what_the_rep_may_see(rep_client, rep, other_rep):
    customer = CustomerFactory()
    mine = CommunicationFactory(customer=customer, our_representative=rep)
    CommunicationFactory(customer=customer, our_representative=other_rep)
    assert ids(rep_client.get(f"{LIST_URL}/customer/{customer.pk}")) == [str(mine.pk)]


# --- pending follow-ups -----------------------------------------------------------------------


def pending(**fields) -> Communication:
    return CommunicationFactory(requires_follow_up=True, **fields)


def test_pending_follow_ups_are_open_ones_oldest_due_first_with_is_overdue(manager_client):
    later = pending(follow_up_date=NOW + dt.timedelta(days=3))
    overdue = pending(follow_up_date=days_ago(2))
    soon = pending(follow_up_date=NOW + dt.timedelta(hours=1))
    pending(follow_up_date=days_ago(9), follow_up_completed=True, follow_up_completed_at=NOW)
    CommunicationFactory(requires_follow_up=False, follow_up_date=days_ago(1))

    response = manager_client.get(PENDING_URL)

    assert ids(response) == [str(overdue.pk), str(soon.pk), str(later.pk)]
    assert [row["is_overdue"] for row in response.json()["results"]] == [True, False, False]
    assert ids(manager_client.get(PENDING_URL + "/")) == [str(overdue.pk), str(soon.pk), str(later.pk)]


def test_pending_follow_ups_by_representative_and_due_before(manager_client, rep, other_rep):
    mine_due = pending(our_representative=rep, follow_up_date=dt.datetime(2025, 6, 10, 23, 59, tzinfo=dt.UTC))
    pending(our_representative=rep, follow_up_date=dt.datetime(2025, 6, 11, tzinfo=dt.UTC))
    pending(our_representative=other_rep, follow_up_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))

    assert ids(manager_client.get(f"{PENDING_URL}?representative_id={rep.pk}&due_before=2025-06-10")) == [
        str(mine_due.pk)
    ]


@pytest.mark.parametrize(
    "query",
    ["representative_id=x", "representative_id=99999999999999999999999", "due_before=soon", "due_before=9999-12-31"],
)
def test_pending_follow_ups_refuse_bad_parameters(manager_client, query):
    response = manager_client.get(f"{PENDING_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_a_rep_sees_only_their_pending_follow_ups(rep_client, rep, other_rep):
    mine = pending(our_representative=rep, follow_up_date=NOW)
    pending(our_representative=other_rep, follow_up_date=NOW)
    assert ids(rep_client.get(PENDING_URL)) == [str(mine.pk)]
    assert ids(rep_client.get(f"{PENDING_URL}?representative_id={other_rep.pk}")) == []


# --- complete follow-up -----------------------------------------------------------------------


def test_complete_follow_up_answers_the_completed_communication(manager_client):
    communication = pending(follow_up_date=days_ago(1))
    response = manager_client.post(complete_url(communication))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["follow_up_completed"] is True
    assert data["follow_up_completed_at"] is not None
    assert data["is_overdue"] is False
    assert response["ETag"]
    assert ids(manager_client.get(PENDING_URL)) == []


def test_complete_follow_up_twice_is_409(manager_client):
    communication = pending(follow_up_date=days_ago(1))
    assert manager_client.post(complete_url(communication) + "/").status_code == 200
    response = manager_client.post(complete_url(communication))
    assert response.status_code == 409
    assert response.json()["detail"]


def test_complete_follow_up_when_none_is_required_is_400(manager_client):
    response = manager_client.post(complete_url(CommunicationFactory()))
    assert response.status_code == 400
    assert "requires_follow_up" in response.json()


def test_complete_follow_up_with_a_stale_if_match_is_412(manager_client):
    communication = pending(follow_up_date=days_ago(1))
    response = manager_client.post(complete_url(communication), HTTP_IF_MATCH='"stale"')
    assert response.status_code == 412
    communication.refresh_from_db()
    assert communication.follow_up_completed is False


# --- record access ----------------------------------------------------------------------------


def test_a_rep_sees_their_own_and_those_about_their_leads_and_deals(rep_client, rep, manager, other_rep):
    own = CommunicationFactory(our_representative=rep)
    about_my_lead = CommunicationFactory(lead=LeadFactory(assigned_to=rep), our_representative=manager)
    about_my_deal = CommunicationFactory(opportunity=OpportunityFactory(owner=rep), our_representative=manager)
    CommunicationFactory(our_representative=other_rep)
    CommunicationFactory(lead=LeadFactory(assigned_to=None), our_representative=other_rep)

    assert set(ids(rep_client.get(LIST_URL))) == {str(own.pk), str(about_my_lead.pk), str(about_my_deal.pk)}


def test_another_reps_communication_is_404_everywhere(rep_client, other_rep):
    theirs = CommunicationFactory(our_representative=other_rep, requires_follow_up=True, follow_up_date=NOW)
    assert rep_client.get(detail_url(theirs)).status_code == 404
    assert rep_client.patch(detail_url(theirs), {"subject": "Mine now"}, format="json").status_code == 404
    assert rep_client.put(detail_url(theirs), {"subject": "Mine now"}, format="json").status_code == 404
    assert rep_client.delete(detail_url(theirs)).status_code == 404
    assert rep_client.post(complete_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.subject != "Mine now" and theirs.follow_up_completed is False


def test_managers_see_everything(manager_client, rep, other_rep):
    CommunicationFactory(our_representative=rep)
    CommunicationFactory(our_representative=other_rep)
    assert len(ids(manager_client.get(LIST_URL))) == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "/00000000-0000-0000-0000-000000000000"),
        ("get", "/customer/00000000-0000-0000-0000-000000000000"),
        ("get", "/lead/00000000-0000-0000-0000-000000000000"),
        ("get", "/opportunity/00000000-0000-0000-0000-000000000000"),
        ("get", "/follow-ups/pending"),
        ("post", "/00000000-0000-0000-0000-000000000000/complete-follow-up"),
        ("get", "/analytics/engagement"),
    ],
)
def test_no_role_is_403_and_anonymous_is_401(no_role_client, anon_client, method, path):
    assert getattr(no_role_client, method)(LIST_URL + path).status_code == 403
    response = getattr(anon_client, method)(LIST_URL + path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- query budgets ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["list", "customer", "lead", "opportunity", "pending"])
def test_list_query_count_does_not_grow_with_page_size(rep_client, rep, kind, django_assert_max_num_queries):
    customer = CustomerFactory()
    lead = LeadFactory(assigned_to=rep)
    opportunity = OpportunityFactory(customer=customer, owner=rep)
    url = {
        "list": LIST_URL,
        "customer": f"{LIST_URL}/customer/{customer.pk}",
        "lead": f"{LIST_URL}/lead/{lead.pk}",
        "opportunity": f"{LIST_URL}/opportunity/{opportunity.pk}",
        "pending": PENDING_URL,
    }[kind]

    def add(count: int) -> None:
        CommunicationFactory.create_batch(
            count,
            customer=customer,
            lead=lead,
            opportunity=opportunity,
            our_representative=rep,
            requires_follow_up=True,
            follow_up_date=NOW,
        )

    add(5)
    with django_assert_max_num_queries(6) as small:
        assert len(ids(rep_client.get(url, {"page_size": 5}))) == 5
    add(45)
    with django_assert_max_num_queries(6) as large:
        assert len(ids(rep_client.get(url))) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


def test_router_names_resolve():
    assert reverse("communication-list").startswith(LIST_URL)
    assert reverse("communication-follow-ups-pending").startswith(PENDING_URL)
