"""
``GET /opportunities/forecast`` against figures computed by hand, and its daily snapshots.

The data set (all in 2026, TIME_ZONE UTC):

    rep        A negotiation (commit)  10000 × 60 % =  6000  expected Jan 15
               B proposal (best_case)   5000 × 40 % =  2000  expected Jan 20
               C prospecting (pipeline) 2000 × 10 % =   200  expected Feb 10
               D won                    8000                  closed  Jan 25 (expected Feb 1: not counted there)
               E negotiation, omitted   3000 × 50 % =  1500  expected Jan 5 (weighted only)
               F lost                   4000                  closed  Jan 10 (nowhere)
    other_rep  G negotiation (commit)   7000 × 80 % =  5600  expected Jan 31 23:30
               H won                    1000                  closed  Feb 1 00:00
               I prospecting (pipeline) 9000 × 10 % =   900  expected Apr 1 (outside Q1)
    quotas     rep Jan 20000, rep Feb 10000, other_rep Jan 5000; none in March
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opportunities.models import ForecastSnapshot, Quota
from opportunities.services import forecast_snapshot_take, opportunity_close

from .factories import OpportunityFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/opportunities/forecast"


def at(month, day, hour=12, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def open_opp(owner, stage, value, probability, expected, **extra):
    return OpportunityFactory(
        owner=owner,
        stage=stage,
        estimated_value=Decimal(value),
        probability=probability,
        expected_close_date=expected,
        **extra,
    )


@pytest.fixture
def data(settings, rep, other_rep):
    settings.TIME_ZONE = "UTC"
    found = {
        "A": open_opp(rep, "negotiation", 10000, 60, at(1, 15)),
        "B": open_opp(rep, "proposal", 5000, 40, at(1, 20)),
        "C": open_opp(rep, "prospecting", 2000, 10, at(2, 10)),
        "D": OpportunityFactory(
            owner=rep,
            won=True,
            estimated_value=Decimal(8000),
            actual_close_date=at(1, 25),
            expected_close_date=at(2, 1),
        ),
        "E": open_opp(
            rep, "negotiation", 3000, 50, at(1, 5), forecast_category="omitted", forecast_category_chosen=True
        ),
        "F": OpportunityFactory(owner=rep, lost=True, estimated_value=Decimal(4000), actual_close_date=at(1, 10)),
        "G": open_opp(other_rep, "negotiation", 7000, 80, at(1, 31, 23, 30)),
        "H": OpportunityFactory(
            owner=other_rep, won=True, estimated_value=Decimal(1000), actual_close_date=at(2, 1, 0)
        ),
        "I": open_opp(other_rep, "prospecting", 9000, 10, at(4, 1)),
    }
    Quota.objects.create(user=rep, period_start=dt.date(2026, 1, 1), amount=Decimal(20000))
    Quota.objects.create(user=rep, period_start=dt.date(2026, 2, 1), amount=Decimal(10000))
    Quota.objects.create(user=other_rep, period_start=dt.date(2026, 1, 1), amount=Decimal(5000))
    return found


def figures(quota, closed_won, commit, best_case, pipeline, weighted, attainment):
    return {
        "quota": quota,
        "closed_won": closed_won,
        "commit": commit,
        "best_case": best_case,
        "pipeline": pipeline,
        "weighted": weighted,
        "attainment": attainment,
    }


REP_JAN = figures(20000.0, 8000.0, 10000.0, 5000.0, 0.0, 9500.0, 40.0)
REP_FEB = figures(10000.0, 0.0, 0.0, 0.0, 2000.0, 200.0, 0.0)
EMPTY = figures(None, 0.0, 0.0, 0.0, 0.0, 0.0, None)
TEAM_JAN = figures(25000.0, 8000.0, 17000.0, 5000.0, 0.0, 15100.0, 32.0)
TEAM_FEB = figures(10000.0, 1000.0, 0.0, 0.0, 2000.0, 200.0, 10.0)
TEAM_Q1 = figures(35000.0, 9000.0, 17000.0, 5000.0, 2000.0, 15300.0, 25.71)


def periods(body):
    return [{k: v for k, v in row.items() if k not in ("period", "snapshot")} for row in body["periods"]]


def test_a_reps_forecast_by_month(data, rep_client):
    body = rep_client.get(URL, {"start": "2026-01", "end": "2026-03"}).json()
    assert [row["period"] for row in body["periods"]] == ["2026-01", "2026-02", "2026-03"]
    assert periods(body) == [REP_JAN, REP_FEB, EMPTY]
    assert body["totals"] == figures(30000.0, 8000.0, 10000.0, 5000.0, 2000.0, 9700.0, 26.67)


def test_a_rep_always_gets_their_own_whatever_owner_id(data, rep_client, other_rep):
    body = rep_client.get(URL, {"start": "2026-01", "end": "2026-01", "owner_id": other_rep.pk}).json()
    assert periods(body) == [REP_JAN]


def test_a_managers_forecast_is_the_teams(data, manager_client):
    body = manager_client.get(URL, {"start": "2026-01", "end": "2026-03"}).json()
    assert periods(body) == [TEAM_JAN, TEAM_FEB, EMPTY]


def test_a_manager_may_ask_for_one_owner(data, manager_client, other_rep):
    body = manager_client.get(URL, {"start": "2026-01", "end": "2026-01", "owner_id": other_rep.pk}).json()
    assert periods(body) == [figures(5000.0, 0.0, 7000.0, 0.0, 0.0, 5600.0, 0.0)]


def test_a_quarter_adds_up_its_months_and_their_quotas(data, manager_client):
    body = manager_client.get(URL, {"period": "quarter", "start": "2026-02", "end": "2026-02"}).json()
    assert [row["period"] for row in body["periods"]] == ["2026-Q1"]
    assert periods(body) == [TEAM_Q1]


def test_quarters_across_a_year(data, manager_client):
    body = manager_client.get(URL, {"period": "quarter", "start": "2025-11", "end": "2026-04"}).json()
    assert [row["period"] for row in body["periods"]] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert body["periods"][2]["pipeline"] == 9000.0


def test_without_snapshots_the_snapshot_is_null(data, rep_client):
    body = rep_client.get(URL, {"start": "2026-01", "end": "2026-01"}).json()
    assert body["periods"][0]["snapshot"] is None


def test_a_past_period_shows_its_forecast_against_what_was_won(data, manager, rep_client, manager_client):
    assert forecast_snapshot_take(day=dt.date(2026, 1, 1)) > 0
    # After the month began, A is won and the rep's quota is raised.
    opportunity_close(actor=manager, opportunity=data["A"], stage="closed_won", actual_close_date=at(1, 20))
    Quota.objects.filter(user=data["A"].owner, period_start=dt.date(2026, 1, 1)).update(amount=Decimal(40000))

    body = rep_client.get(URL, {"start": "2026-01", "end": "2026-02"}).json()
    january, february = body["periods"]
    assert {k: v for k, v in january.items() if k not in ("period", "snapshot")} == figures(
        40000.0, 18000.0, 0.0, 5000.0, 0.0, 3500.0, 45.0
    )
    assert january["snapshot"] == REP_JAN
    assert february["snapshot"] is None  # No snapshot was taken on February 1.

    team = manager_client.get(URL, {"period": "quarter", "start": "2026-01", "end": "2026-03"}).json()
    assert team["periods"][0]["snapshot"] == TEAM_Q1


def test_a_snapshot_is_taken_once_a_day(data):
    first = forecast_snapshot_take(day=dt.date(2026, 1, 1))
    assert forecast_snapshot_take(day=dt.date(2026, 1, 1)) == 0
    assert ForecastSnapshot.objects.count() == first
    # The team row of each of the 12 months, plus the owners' rows of the months they have figures in.
    assert ForecastSnapshot.objects.filter(owner__isnull=True).count() == 12


def test_forecast_snapshot_command(data, capsys):
    call_command("forecast_snapshot", "--day", "2026-01-01")
    call_command("forecast_snapshot", "--day", "2026-01-01")
    out = capsys.readouterr().out
    assert "taken" in out and "already taken" in out
    assert ForecastSnapshot.objects.filter(day=dt.date(2026, 1, 1)).exists()


def test_the_scheduled_task_is_registered():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="opportunities.tasks.take_forecast_snapshot", enabled=True).exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "week"}, "period"),
        ({"start": "2026-13"}, "start"),
        ({"start": "2026-1"}, "start"),
        ({"start": "0001-01"}, "start"),
        ({"end": "9999-12"}, "end"),
        ({"start": "2026-03", "end": "2026-02"}, "end"),
        ({"start": "2000-01", "end": "2026-01"}, "end"),
        ({"owner_id": "x"}, "owner_id"),
        ({"owner_id": "99999999999999999999"}, "owner_id"),
    ],
)
def test_a_malformed_query_is_400_naming_the_field(manager_client, params, field):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_defaults_to_this_month(manager_client):
    body = manager_client.get(URL).json()
    assert len(body["periods"]) == 1
    assert body["periods"][0]["period"] == dt.date.today().strftime("%Y-%m")


def test_the_forecast_costs_the_same_queries_whatever_the_data_and_range(data, manager_client, rep, other_rep):
    forecast_snapshot_take(day=dt.date(2026, 1, 1))
    with CaptureQueriesContext(connection) as small:
        manager_client.get(URL, {"start": "2026-01", "end": "2026-01"})
    for month in range(1, 13):
        open_opp(rep, "proposal", 100, 50, at(month, 3))
        Quota.objects.get_or_create(user=other_rep, period_start=dt.date(2026, month, 1), defaults={"amount": 1})
    forecast_snapshot_take(day=dt.date(2026, 4, 1))
    with CaptureQueriesContext(connection) as large:
        response = manager_client.get(URL, {"period": "quarter", "start": "2026-01", "end": "2026-12"})
    assert response.status_code == 200
    assert len(large) == len(small)


# --- manage.py forecast_report -------------------------------------------------------------------


def test_forecast_report_json_is_the_apis_answer(data, manager_client, capsys):
    import json

    call_command("forecast_report", "--start", "2026-01", "--end", "2026-03", "--format", "json")
    printed = json.loads(capsys.readouterr().out)
    api = manager_client.get(URL, {"start": "2026-01", "end": "2026-03"}).json()
    assert printed["forecast"] == api
    assert printed["forecast"]["periods"][0]["commit"] == 17000.0
    assert {stage["stage"] for stage in printed["velocity"]["stages"]} >= {"prospecting", "negotiation"}


def test_forecast_report_csv_and_table(data, rep, capsys):
    call_command(
        "forecast_report", "--start", "2026-01", "--end", "2026-02", "--owner", rep.username, "--format", "csv"
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("period,quota,closed_won,commit,best_case,pipeline,weighted,attainment,snapshot_quota")
    assert lines[1].startswith("2026-01,20000.00,8000.00,10000.00,5000.00,0.00,9500.00,40.00")
    call_command("forecast_report", "--period", "quarter", "--start", "2026-01")
    out = capsys.readouterr().out
    assert "2026-Q1" in out and "Stage velocity" in out


def test_forecast_report_refuses_a_bad_month(data):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="start"):
        call_command("forecast_report", "--start", "2026-13")
