import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from communications.api.serializers import EngagementByDirectionSerializer, EngagementByTypeSerializer
from communications.models import CommunicationDirection, CommunicationType
from communications.selectors import (
    communication_list_visible_to,
    engagement_summary,
    pending_follow_ups,
)
from customers.tests.factories import CustomerFactory

from .factories import CommunicationFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

ENGAGEMENT_URL = "/api/v1/crm/communications/analytics/engagement"
NOW = timezone.now()
MARCH_1 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
APRIL_1 = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)


# --- visibility ---------------------------------------------------------------------------------


def test_each_persona_sees_what_the_contract_says(manager, superuser, rep, other_rep, no_role_user):
    own = CommunicationFactory(our_representative=rep)
    my_lead = CommunicationFactory(lead=LeadFactory(assigned_to=rep), our_representative=other_rep)
    my_deal = CommunicationFactory(opportunity=OpportunityFactory(owner=rep), our_representative=other_rep)
    unassigned_lead = CommunicationFactory(lead=LeadFactory(assigned_to=None), our_representative=other_rep)
    theirs = CommunicationFactory(our_representative=other_rep)
    nobodys = CommunicationFactory(our_representative=None)
    everything = {own, my_lead, my_deal, unassigned_lead, theirs, nobodys}

    assert set(communication_list_visible_to(manager)) == everything
    assert set(communication_list_visible_to(superuser)) == everything
    assert set(communication_list_visible_to(rep)) == {own, my_lead, my_deal}
    assert set(communication_list_visible_to(other_rep)) == {my_lead, my_deal, unassigned_lead, theirs}
    assert list(communication_list_visible_to(no_role_user)) == []


def test_pending_follow_ups_are_oldest_due_first_and_exclude_closed_ones(manager):
    later = CommunicationFactory(requires_follow_up=True, follow_up_date=NOW + dt.timedelta(days=1))
    sooner = CommunicationFactory(requires_follow_up=True, follow_up_date=NOW - dt.timedelta(days=1))
    CommunicationFactory(requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True)
    CommunicationFactory(requires_follow_up=False)
    assert list(pending_follow_ups(manager)) == [sooner, later]


# --- engagement ---------------------------------------------------------------------------------


@pytest.fixture
def march(rep, other_rep):
    """
    Four communications in March 2025 (two on its very edges) and two just outside it:

    | # | date            | type    | dir | rep       | about             | min | follow-up          |
    |---|-----------------|---------|-----|-----------|-------------------|-----|--------------------|
    | 1 | Mar 1 00:00     | phone   | out | rep       | customer A        | 10  | due Mar 5, open    |
    | 2 | Mar 15 00:00    | email   | in  | rep       | customer A        | -   | completed          |
    | 3 | Mar 31 23:59:59…| meeting | out | other_rep | customer B        | 60  | due in 10 days     |
    | 4 | Mar 20          | visit   | out | other_rep | rep's lead        | 35  | -                  |
    | 5 | Feb 28 23:59:59…| phone   | out | rep       | customer B        | 100 | -                  |
    | 6 | Apr 1 00:00     | phone   | out | rep       | customer B        | -   | -                  |
    """
    customer_a, customer_b = CustomerFactory(), CustomerFactory()
    rows = [
        dict(
            communication_date=MARCH_1,
            type="phone",
            direction="outbound",
            our_representative=rep,
            customer=customer_a,
            duration_minutes=10,
            requires_follow_up=True,
            follow_up_date=dt.datetime(2025, 3, 5, tzinfo=dt.UTC),
        ),
        dict(
            communication_date=dt.datetime(2025, 3, 15, tzinfo=dt.UTC),
            type="email",
            direction="inbound",
            our_representative=rep,
            customer=customer_a,
            requires_follow_up=True,
            follow_up_date=dt.datetime(2025, 3, 16, tzinfo=dt.UTC),
            follow_up_completed=True,
            follow_up_completed_at=dt.datetime(2025, 3, 16, tzinfo=dt.UTC),
        ),
        dict(
            communication_date=APRIL_1 - TICK,
            type="meeting",
            direction="outbound",
            our_representative=other_rep,
            customer=customer_b,
            duration_minutes=60,
            requires_follow_up=True,
            follow_up_date=NOW + dt.timedelta(days=10),
        ),
        dict(
            communication_date=dt.datetime(2025, 3, 20, tzinfo=dt.UTC),
            type="visit",
            direction="outbound",
            our_representative=other_rep,
            customer=None,
            lead=LeadFactory(assigned_to=rep),
            duration_minutes=35,
        ),
        dict(
            communication_date=MARCH_1 - TICK,
            type="phone",
            our_representative=rep,
            customer=customer_b,
            duration_minutes=100,
        ),
        dict(communication_date=APRIL_1, type="phone", our_representative=rep, customer=customer_b),
    ]
    communications = [CommunicationFactory(**row) for row in rows]
    return {"customer_a": customer_a, "customer_b": customer_b, "communications": communications}


def by_representative(summary) -> dict:
    return {row["representative_id"]: row for row in summary["by_representative"]}


def test_engagement_figures_for_a_manager(manager, rep, other_rep, march):
    summary = engagement_summary(user=manager, start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 3, 31))

    assert summary["total"] == 4
    assert summary["by_type"] == {
        "phone": 1,
        "email": 1,
        "meeting": 1,
        "video_call": 0,
        "chat": 0,
        "sms": 0,
        "visit": 1,
        "other": 0,
    }
    assert summary["by_direction"] == {"inbound": 1, "outbound": 3}
    assert summary["average_duration_minutes"] == Decimal("35.00")  # (10 + 60 + 35) / 3
    assert summary["customers_contacted"] == 2
    assert summary["follow_ups"] == {
        "required": 3,
        "completed": 1,
        "overdue": 1,
        "completion_rate": Decimal("33.33"),
    }
    assert by_representative(summary) == {
        rep.pk: {"representative_id": rep.pk, "name": rep.get_full_name(), "count": 2, "total_duration_minutes": 10},
        other_rep.pk: {
            "representative_id": other_rep.pk,
            "name": other_rep.get_full_name(),
            "count": 2,
            "total_duration_minutes": 95,
        },
    }
    assert (summary["start_date"], summary["end_date"]) == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))


def test_a_reps_engagement_counts_only_what_the_rep_may_see(rep, other_rep, march):
    summary = engagement_summary(user=rep, start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 3, 31))

    # Rows 1 and 2 (theirs) and 4 (about their lead); not row 3 (another rep's, about a customer).
    assert summary["total"] == 3
    assert summary["by_type"]["meeting"] == 0
    assert summary["average_duration_minutes"] == Decimal("22.50")
    assert summary["customers_contacted"] == 1
    assert summary["follow_ups"] == {"required": 2, "completed": 1, "overdue": 1, "completion_rate": Decimal("50.00")}
    assert {pk: row["count"] for pk, row in by_representative(summary).items()} == {rep.pk: 2, other_rep.pk: 1}


def test_engagement_date_bounds_are_inclusive_days_or_exact_timestamps(manager, march):
    def total(start, end) -> int:
        return engagement_summary(user=manager, start_date=start, end_date=end)["total"]

    assert total(None, None) == 6
    assert total(dt.date(2025, 3, 1), None) == 5  # from Mar 1 00:00, Apr 1 included
    assert total(None, dt.date(2025, 3, 31)) == 5  # to the last instant of Mar 31
    assert total(dt.date(2025, 3, 15), dt.date(2025, 3, 15)) == 1
    stamp = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
    assert total(stamp, stamp) == 1
    assert total(stamp + TICK, stamp + TICK) == 0
    assert total(dt.date(2025, 4, 1), dt.date(2025, 4, 1)) == 1


def test_engagement_by_representative_and_by_customer(manager, other_rep, march):
    assert engagement_summary(user=manager, representative_id=other_rep.pk)["total"] == 2
    assert engagement_summary(user=manager, customer_id=march["customer_a"].pk)["total"] == 2
    assert engagement_summary(user=manager, customer_id=march["customer_b"].pk)["customers_contacted"] == 1


def test_engagement_with_nothing_to_count(manager):
    summary = engagement_summary(user=manager)

    assert summary["total"] == 0
    assert summary["by_type"] == dict.fromkeys(CommunicationType.values, 0)
    assert summary["by_direction"] == {"inbound": 0, "outbound": 0}
    assert summary["by_representative"] == []
    assert summary["average_duration_minutes"] is None
    assert summary["customers_contacted"] == 0
    assert summary["follow_ups"] == {"required": 0, "completed": 0, "overdue": 0, "completion_rate": Decimal("0.00")}


def test_a_communication_without_a_representative_is_counted_under_none(manager):
    CommunicationFactory(our_representative=None, duration_minutes=4)
    assert engagement_summary(user=manager)["by_representative"] == [
        {"representative_id": None, "name": None, "count": 1, "total_duration_minutes": 4}
    ]


def test_engagement_takes_a_constant_number_of_queries(manager, rep, django_assert_max_num_queries):
    engagement_summary(user=manager)  # the role is read once per user
    CommunicationFactory.create_batch(5, our_representative=rep)
    with django_assert_max_num_queries(2) as small:
        engagement_summary(user=manager)
    CommunicationFactory.create_batch(45, our_representative=rep, duration_minutes=3)
    with django_assert_max_num_queries(2) as large:
        engagement_summary(user=manager)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_the_answer_shapes_name_every_type_and_direction():
    assert list(EngagementByTypeSerializer().fields) == CommunicationType.values
    assert list(EngagementByDirectionSerializer().fields) == CommunicationDirection.values


# --- the endpoint ---------------------------------------------------------------------------------


def test_the_engagement_endpoint_answers_the_contracts_shape(manager_client, march):
    response = manager_client.get(f"{ENGAGEMENT_URL}?start_date=2025-03-01&end_date=2025-03-31")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "total",
        "by_type",
        "by_direction",
        "by_representative",
        "average_duration_minutes",
        "customers_contacted",
        "follow_ups",
        "start_date",
        "end_date",
    }
    assert body["total"] == 4
    assert body["average_duration_minutes"] == 35.0
    assert body["follow_ups"] == {"required": 3, "completed": 1, "overdue": 1, "completion_rate": 33.33}
    assert (body["start_date"], body["end_date"]) == ("2025-03-01", "2025-03-31")
    assert set(body["by_representative"][0]) == {"representative_id", "name", "count", "total_duration_minutes"}


def test_the_engagement_endpoint_without_parameters_and_with_a_trailing_slash(manager_client):
    body = manager_client.get(ENGAGEMENT_URL + "/").json()
    assert body["total"] == 0
    assert body["average_duration_minutes"] is None
    assert (body["start_date"], body["end_date"]) == (None, None)
    assert body["follow_ups"]["completion_rate"] == 0


def test_the_engagement_endpoint_takes_timestamps_and_ignores_empty_parameters(manager_client, march):
    body = manager_client.get(
        f"{ENGAGEMENT_URL}?start_date=2025-03-15T00:00:00Z&end_date=2025-03-15T00:00:00Z&representative_id="
    ).json()
    assert body["total"] == 1
    assert (body["start_date"], body["end_date"]) == ("2025-03-15T00:00:00Z", "2025-03-15T00:00:00Z")


def test_the_engagement_endpoint_counts_only_what_a_rep_may_see(rep_client, other_rep, march):
    assert rep_client.get(ENGAGEMENT_URL).json()["total"] == 5  # all but row 3
    assert rep_client.get(f"{ENGAGEMENT_URL}?representative_id={other_rep.pk}").json()["total"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "end_date=2025-02-30",
        "end_date=9999-12-31",
        "start_date=0001-01-01T00:00:00%2B14:00",
        "representative_id=abc",
        "representative_id=99999999999999999999999",
        "customer_id=not-a-uuid",
        "start_date=2025-03-31&end_date=2025-03-01",
    ],
)
def test_the_engagement_endpoint_refuses_bad_parameters(manager_client, query):
    response = manager_client.get(f"{ENGAGEMENT_URL}?{query}")
    assert response.status_code == 400
    assert query.split("&")[-1].split("=")[0] in response.json()
