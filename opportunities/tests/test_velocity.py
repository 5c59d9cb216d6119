"""
``GET /opportunities/analytics/velocity`` against figures computed by hand. Stage history (2026):

    P rep, lead website, Retail, 10000, created Jan 1: prospecting Jan 1 → qualification Jan 3
      → proposal Jan 7 → won Jan 11
    Q rep, lead referral, Retail, 6000, created Jan 2: prospecting Jan 2 → qualification Jan 6
      → prospecting Jan 8 (back) → lost Jan 9
    R other_rep, no lead, no industry, created Jan 5: prospecting Jan 5 → qualification Jan 15 (still)
    S rep, created Dec 20 2025: prospecting Dec 20 → negotiation Jan 4 → won Feb 3
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import CustomerFactory

from .factories import LeadFactory, OpportunityFactory, OpportunityStageChangeFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/opportunities/analytics/velocity"
JANUARY = {"start_date": "2026-01-01", "end_date": "2026-01-31"}


def day(month, number, year=2026):
    return dt.datetime(year, month, number, tzinfo=dt.UTC)


def history(opportunity, *moves):
    previous = ""
    for stage, at in moves:
        OpportunityStageChangeFactory(opportunity=opportunity, from_stage=previous, to_stage=stage, changed_at=at)
        previous = stage


@pytest.fixture
def data(settings, rep, other_rep):
    settings.TIME_ZONE = "UTC"
    retail = CustomerFactory(industry="Retail")
    p = OpportunityFactory(
        owner=rep,
        customer=retail,
        lead=LeadFactory(source="website"),
        won=True,
        estimated_value=Decimal(10000),
        created_at=day(1, 1),
        actual_close_date=day(1, 11),
    )
    history(
        p, ("prospecting", day(1, 1)), ("qualification", day(1, 3)), ("proposal", day(1, 7)), ("closed_won", day(1, 11))
    )
    q = OpportunityFactory(
        owner=rep,
        customer=retail,
        lead=LeadFactory(source="referral"),
        lost=True,
        estimated_value=Decimal(6000),
        created_at=day(1, 2),
        actual_close_date=day(1, 9),
    )
    history(
        q,
        ("prospecting", day(1, 2)),
        ("qualification", day(1, 6)),
        ("prospecting", day(1, 8)),
        ("closed_lost", day(1, 9)),
    )
    r = OpportunityFactory(
        owner=other_rep, customer=CustomerFactory(industry=""), stage="qualification", created_at=day(1, 5)
    )
    history(r, ("prospecting", day(1, 5)), ("qualification", day(1, 15)))
    s = OpportunityFactory(owner=rep, won=True, created_at=day(12, 20, 2025), actual_close_date=day(2, 3))
    history(s, ("prospecting", day(12, 20, 2025)), ("negotiation", day(1, 4)), ("closed_won", day(2, 3)))


def stage(name, entered, average, median, rate):
    return {"stage": name, "entered": entered, "average_days": average, "median_days": median, "moved_on_rate": rate}


def test_the_teams_velocity_in_january(data, manager_client):
    body = manager_client.get(URL, JANUARY).json()
    assert body["stages"] == [
        stage("prospecting", 4, 4.25, 3.0, 75.0),
        stage("qualification", 3, 3.0, 3.0, 33.33),
        stage("needs_analysis", 0, None, None, 0.0),
        stage("proposal", 1, 4.0, 4.0, 100.0),
        # S entered negotiation on Jan 4 and left it (won) on Feb 3: 30 days, counted.
        stage("negotiation", 1, 30.0, 30.0, 100.0),
    ]
    assert body["average_cycle_days"] == 10.0
    assert body["win_rate_by_source"] == {"referral": 0.0, "website": 100.0}
    assert body["win_rate_by_industry"] == {"Retail": 50.0}
    assert body["average_won_value"] == 10000.0


def test_a_rep_counts_only_their_own(data, rep_client, other_rep):
    body = rep_client.get(URL, {**JANUARY, "owner_id": other_rep.pk}).json()
    assert body["stages"][0]["entered"] == 0
    body = rep_client.get(URL, JANUARY).json()
    assert body["stages"][:2] == [
        stage("prospecting", 3, 2.33, 2.0, 66.67),
        stage("qualification", 2, 3.0, 3.0, 50.0),
    ]


def test_nothing_in_range_gives_nulls(data, manager_client):
    body = manager_client.get(URL, {"start_date": "2030-01-01", "end_date": "2030-01-31"}).json()
    assert body["average_cycle_days"] is None and body["average_won_value"] is None
    assert body["win_rate_by_source"] == {} and all(row["entered"] == 0 for row in body["stages"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
        ({"start_date": "not a date"}, "start_date"),
        ({"owner_id": "0"}, "owner_id"),
    ],
)
def test_a_malformed_query_is_400_naming_the_field(manager_client, params, field):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_velocity_costs_the_same_queries_whatever_the_data(data, manager_client, rep):
    with CaptureQueriesContext(connection) as small:
        manager_client.get(URL, JANUARY)
    for number in range(10):
        more = OpportunityFactory(owner=rep, won=True, lead=LeadFactory(), created_at=day(1, 1))
        history(more, ("prospecting", day(1, 2)), ("closed_won", day(1, 3 + number)))
    with CaptureQueriesContext(connection) as large:
        manager_client.get(URL, JANUARY)
    assert len(large) == len(small)
