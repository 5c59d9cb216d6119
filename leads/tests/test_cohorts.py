"""
``GET /leads/analytics/cohorts`` against figures computed by hand (2026, TIME_ZONE UTC):

    January  L1 new                                   created only
             L2 contacted (other_rep's)               contacted
             L3 new again, a call logged Jan 6        contacted
             L4 qualified                             contacted, qualified
             L5 lost after being qualified            contacted, qualified
             L6 converted Jan 1 00:00 → Jan 11 00:00  all three, 10 days
             L7 converted Jan 20 00:00 → Jan 24 12:00 all three, 4.5 days
    February L8 lost, never contacted                 created only
    December 2025 L9                                  outside the range
"""

import datetime as dt

import pytest

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/leads/analytics/cohorts"
RANGE = {"start_date": "2026-01-01", "end_date": "2026-02-28"}


def at(month, day, hour=0, year=2026):
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def data(settings, other_rep):
    settings.TIME_ZONE = "UTC"
    LeadFactory(created_at=at(1, 3))
    LeadFactory(created_at=at(1, 5), status="contacted", assigned_to=other_rep)
    LeadFactory(created_at=at(1, 6), last_contacted_at=at(1, 6, 12))
    LeadFactory(created_at=at(1, 10), status="qualified")
    LeadFactory(created_at=at(1, 12), status="lost", is_qualified=True, qualified_at=at(1, 13))
    LeadFactory(created_at=at(1, 1), status="converted", converted_at=at(1, 11))
    LeadFactory(created_at=at(1, 20), status="converted", converted_at=at(1, 24, 12))
    LeadFactory(created_at=at(2, 2), status="lost")
    LeadFactory(created_at=at(12, 31, year=2025), status="converted", converted_at=at(1, 2))


def cohort(name, created, contacted, qualified, converted, median):
    return {
        "cohort": name,
        "created": created,
        "contacted": contacted,
        "qualified": qualified,
        "converted": converted,
        "median_days_to_convert": median,
    }


def test_cohorts_by_month_of_creation(data, manager_client):
    assert manager_client.get(URL, RANGE).json() == [
        cohort("2026-01", 7, 6, 4, 2, 7.25),
        cohort("2026-02", 1, 0, 0, 0, None),
    ]


def test_without_a_range_every_month_shows(data, manager_client):
    assert [row["cohort"] for row in manager_client.get(URL).json()] == ["2025-12", "2026-01", "2026-02"]


def test_a_rep_counts_only_the_leads_they_may_see(data, rep_client):
    assert rep_client.get(URL, RANGE).json()[0] == cohort("2026-01", 6, 5, 4, 2, 7.25)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"by": "week"}, "by"), ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date")],
)
def test_a_malformed_query_is_400_naming_the_field(manager_client, params, field):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()
