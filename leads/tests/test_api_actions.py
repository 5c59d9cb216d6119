"""qualify, convert, follow-ups/today and analytics/summary, through their real URLs."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadSource, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/crm/leads"
FOLLOW_UPS_URL = f"{LIST_URL}/follow-ups/today"
ANALYTICS_URL = f"{LIST_URL}/analytics/summary"


def qualify_url(lead) -> str:
    return f"{LIST_URL}/{lead.pk}/qualify"


def convert_url(lead) -> str:
    return f"{LIST_URL}/{lead.pk}/convert"


# --- qualify --------------------------------------------------------------------------------------


def test_the_seed_qualify_example_works_as_written(manager_client):
    lead = LeadFactory(status=LeadStatus.CONTACTED)
    response = manager_client.post(
        qualify_url(lead),
        {"qualification_score": 85, "is_qualified": True, "notes": "Strong prospect - budget confirmed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["qualification_score"], body["is_qualified"]) == ("qualified", 85, True)
    assert body["qualified_at"] is not None
    assert body["notes"].endswith("· manager] Strong prospect - budget confirmed")
    assert response["ETag"]


def test_is_qualified_defaults_to_true_and_the_slashed_path_works(manager_client):
    response = manager_client.post(qualify_url(LeadFactory()) + "/", {"qualification_score": 70}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "qualified"


def test_qualify_false_withdraws_a_qualification(manager_client):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    body = manager_client.post(
        qualify_url(lead), {"qualification_score": 10, "is_qualified": False}, format="json"
    ).json()
    assert (body["status"], body["is_qualified"], body["qualified_at"]) == ("contacted", False, None)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"qualification_score": 101},
        {"qualification_score": -1},
        {"qualification_score": "high"},
        {"qualification_score": 85.5},
        {"qualification_score": None},
        {"qualification_score": 80, "is_qualified": "perhaps"},
        {"qualification_score": 80, "notes": "x" * 10_001},
    ],
)
def test_bad_qualify_bodies_are_400_naming_the_field(manager_client, body):
    lead = LeadFactory()
    response = manager_client.post(qualify_url(lead), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"qualification_score", "is_qualified", "notes"}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.LOST])
def test_qualifying_a_closed_lead_is_409(manager_client, status):
    lead = LeadFactory(status=status)
    response = manager_client.post(qualify_url(lead), {"qualification_score": 90}, format="json")
    assert response.status_code == 409
    assert "detail" in response.json()


def test_qualify_honours_if_match(manager_client):
    lead = LeadFactory()
    stale = manager_client.get(f"{LIST_URL}/{lead.pk}")["ETag"]
    manager_client.patch(f"{LIST_URL}/{lead.pk}", {"city": "Pune"}, format="json")
    response = manager_client.post(qualify_url(lead), {"qualification_score": 90}, format="json", HTTP_IF_MATCH=stale)
    assert response.status_code == 412


def test_rep_qualifies_their_own_and_unassigned_leads(rep_client, rep):
    for lead in (LeadFactory(assigned_to=rep), LeadFactory(assigned_to=None)):
        assert rep_client.post(qualify_url(lead), {"qualification_score": 60}, format="json").status_code == 200


# --- convert --------------------------------------------------------------------------------------


def test_the_seed_convert_example_works_as_written(manager_client):
    customer = CustomerFactory()
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    response = manager_client.post(
        convert_url(lead), {"customer_id": str(customer.pk), "notes": "First order placed - 500 units"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted"
    assert body["converted_customer_id"] == str(customer.pk)
    assert body["converted_at"] is not None
    assert body["notes"].endswith("· manager] First order placed - 500 units")


def test_convert_without_a_customer_creates_one_from_the_lead(rep_client, rep):
    lead = LeadFactory(company_name="Tech Solutions Ltd", contact_person="John Doe", assigned_to=rep)
    response = rep_client.post(convert_url(lead), {}, format="json")
    assert response.status_code == 200
    customer = Customer.objects.get(pk=response.json()["converted_customer_id"])
    assert (customer.company_name, customer.contact_person, customer.account_manager) == (
        "Tech Solutions Ltd",
        "John Doe",
        rep,
    )


def test_convert_with_an_empty_body_works(manager_client):
    response = manager_client.post(convert_url(LeadFactory()), data=b"", content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "converted"


@pytest.mark.parametrize("customer_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", 42, ["x"]])
def test_convert_into_an_unknown_customer_is_400_on_customer_id(manager_client, customer_id):
    lead = LeadFactory()
    response = manager_client.post(convert_url(lead), {"customer_id": customer_id}, format="json")
    assert response.status_code == 400
    assert "customer_id" in response.json()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert not Customer.objects.exists()


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.LOST])
def test_converting_a_closed_lead_is_409_and_creates_nothing(manager_client, status):
    lead = LeadFactory(status=status)
    customers_before = Customer.objects.count()
    response = manager_client.post(convert_url(lead), {}, format="json")
    assert response.status_code == 409
    assert Customer.objects.count() == customers_before


def test_converting_twice_is_409_the_second_time(manager_client):
    lead = LeadFactory()
    assert manager_client.post(convert_url(lead), {}, format="json").status_code == 200
    assert manager_client.post(convert_url(lead), {}, format="json").status_code == 409
    assert Customer.objects.count() == 1


# --- follow-ups/today --------------------------------------------------------------------------------


def today_at(hour: int, days: int = 0) -> dt.datetime:
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    return midnight + dt.timedelta(days=days, hours=hour)


def test_the_seed_follow_ups_example_lists_todays_open_leads_by_time(manager_client):
    late, early = LeadFactory(next_follow_up_date=today_at(15)), LeadFactory(next_follow_up_date=today_at(9))
    LeadFactory(next_follow_up_date=today_at(10, days=-2))
    LeadFactory(next_follow_up_date=today_at(10, days=1))
    LeadFactory(next_follow_up_date=today_at(10), status=LeadStatus.CONVERTED)
    LeadFactory(next_follow_up_date=today_at(10), status=LeadStatus.LOST)

    response = manager_client.get(FOLLOW_UPS_URL)
    assert response.status_code == 200
    body = response.json()
    assert {"count", "page", "page_size", "total_pages", "next", "previous", "results"} <= set(body)
    assert [row["id"] for row in body["results"]] == [str(early.pk), str(late.pk)]
    assert set(body["results"][0]) >= {"lead_number", "next_follow_up_date", "assigned_to_id"}


def test_include_overdue_adds_earlier_follow_ups_first(manager_client):
    today = LeadFactory(next_follow_up_date=today_at(9))
    overdue = LeadFactory(next_follow_up_date=today_at(9, days=-3))
    ids = [row["id"] for row in manager_client.get(FOLLOW_UPS_URL + "/?include_overdue=true").json()["results"]]
    assert ids == [str(overdue.pk), str(today.pk)]
    ids = [row["id"] for row in manager_client.get(FOLLOW_UPS_URL + "?include_overdue=false").json()["results"]]
    assert ids == [str(today.pk)]


def test_follow_ups_can_be_narrowed_to_one_assignee(manager_client, rep):
    mine = LeadFactory(next_follow_up_date=today_at(9), assigned_to=rep)
    LeadFactory(next_follow_up_date=today_at(9))
    ids = [row["id"] for row in manager_client.get(f"{FOLLOW_UPS_URL}?assigned_to_id={rep.pk}").json()["results"]]
    assert ids == [str(mine.pk)]


@pytest.mark.parametrize("query", ["include_overdue=perhaps", "assigned_to_id=abc", "page=0", "page_size=x"])
def test_bad_follow_up_parameters_are_400(manager_client, query):
    response = manager_client.get(f"{FOLLOW_UPS_URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_a_rep_sees_only_their_own_and_unassigned_follow_ups(rep_client, rep, other_rep):
    mine = LeadFactory(next_follow_up_date=today_at(9), assigned_to=rep)
    pooled = LeadFactory(next_follow_up_date=today_at(10))
    LeadFactory(next_follow_up_date=today_at(11), assigned_to=other_rep)
    ids = [row["id"] for row in rep_client.get(FOLLOW_UPS_URL).json()["results"]]
    assert ids == [str(mine.pk), str(pooled.pk)]


def test_follow_ups_query_count_does_not_grow_with_page_size(manager_client, rep, django_assert_max_num_queries):
    LeadFactory.create_batch(5, assigned_to=rep, next_follow_up_date=today_at(9))
    with django_assert_max_num_queries(6) as small:
        assert len(manager_client.get(FOLLOW_UPS_URL, {"page_size": 5}).json()["results"]) == 5
    LeadFactory.create_batch(45, assigned_to=rep, next_follow_up_date=today_at(10))
    with django_assert_max_num_queries(6) as large:
        assert len(manager_client.get(FOLLOW_UPS_URL).json()["results"]) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


# --- analytics/summary -----------------------------------------------------------------------------


def test_the_seed_analytics_example_answers_the_contract_shape(manager_client):
    at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    LeadFactory(created_at=at, status=LeadStatus.CONVERTED, converted_at=at + dt.timedelta(days=3))
    LeadFactory(created_at=at, source=LeadSource.REFERRAL)
    LeadFactory(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    response = manager_client.get(f"{ANALYTICS_URL}?start_date=2025-01-01&end_date=2025-12-31")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "total_leads",
        "by_status",
        "by_source",
        "conversion_rate",
        "average_time_to_convert_days",
        "start_date",
        "end_date",
    }
    assert body["total_leads"] == 2
    assert set(body["by_status"]) == set(LeadStatus.values)
    assert set(body["by_source"]) == set(LeadSource.values)
    assert (body["by_status"]["converted"], body["by_source"]["referral"], body["by_source"]["website"]) == (1, 1, 1)
    assert body["conversion_rate"] == 50.0
    assert body["average_time_to_convert_days"] == 3.0
    assert (body["start_date"], body["end_date"]) == ("2025-01-01", "2025-12-31")


def test_analytics_without_dates_and_without_leads(manager_client):
    body = manager_client.get(ANALYTICS_URL + "/").json()
    assert body["total_leads"] == 0
    assert body["conversion_rate"] == 0
    assert body["average_time_to_convert_days"] is None
    assert (body["start_date"], body["end_date"]) == (None, None)


def test_empty_date_parameters_mean_no_bound(manager_client):
    LeadFactory()
    assert manager_client.get(f"{ANALYTICS_URL}?start_date=&end_date=").json()["total_leads"] == 1


def test_analytics_accept_far_dates_that_have_a_next_day(manager_client):
    response = manager_client.get(f"{ANALYTICS_URL}?start_date=0001-01-01&end_date=9999-12-30")
    assert response.status_code == 200


def test_analytics_accept_timestamps(manager_client):
    response = manager_client.get(f"{ANALYTICS_URL}?start_date=2025-01-01T00:00:00Z&end_date=2025-01-31T23:59:59Z")
    assert response.status_code == 200
    assert response.json()["start_date"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start_date=2025-02-01&end_date=2025-01-31", "end_date"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2025-02-30", "end_date"),
        ("start_date=%00", "start_date"),
        ("end_date=9999-12-31", "end_date"),
        ("start_date=0001-01-01T00:00:00%2B05:00", "start_date"),
    ],
)
def test_bad_analytics_dates_are_400(manager_client, query, field):
    response = manager_client.get(f"{ANALYTICS_URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_reps_analytics_leave_out_other_reps_leads(rep_client, rep, other_rep):
    LeadFactory(assigned_to=rep)
    LeadFactory(assigned_to=None, status=LeadStatus.CONVERTED)
    LeadFactory.create_batch(3, assigned_to=other_rep, status=LeadStatus.CONVERTED)
    body = rep_client.get(ANALYTICS_URL).json()
    assert body["total_leads"] == 2
    assert body["by_status"]["converted"] == 1


def test_analytics_use_a_constant_number_of_queries(manager_client, django_assert_max_num_queries):
    LeadFactory.create_batch(3, status=LeadStatus.CONVERTED)
    with django_assert_max_num_queries(4) as few:
        manager_client.get(ANALYTICS_URL)
    LeadFactory.create_batch(30, status=LeadStatus.CONVERTED)
    with django_assert_max_num_queries(4) as many:
        manager_client.get(ANALYTICS_URL)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_no_role_users_reach_no_lead_endpoint(no_role_client):
    lead = LeadFactory()
    for response in (
        no_role_client.get(FOLLOW_UPS_URL),
        no_role_client.get(ANALYTICS_URL),
        no_role_client.post(qualify_url(lead), {"qualification_score": 1}, format="json"),
        no_role_client.post(convert_url(lead), {}, format="json"),
    ):
        assert response.status_code == 403


def test_today_follows_the_configured_time_zone(manager_client, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: "today" there is often tomorrow in UTC
    with mock.patch("leads.selectors.timezone.localdate", return_value=dt.date(2025, 12, 15)):
        due = LeadFactory(next_follow_up_date=dt.datetime(2025, 12, 14, 10, 0, tzinfo=dt.UTC))  # 00:00 on the 15th
        LeadFactory(next_follow_up_date=dt.datetime(2025, 12, 14, 9, 59, tzinfo=dt.UTC))
        ids = [row["id"] for row in manager_client.get(FOLLOW_UPS_URL).json()["results"]]
    assert ids == [str(due.pk)]
    assert Lead.objects.count() == 2
