"""``manage.py pipeline_report`` (and the by-owner selector behind it) and ``export_opportunities``."""

import csv
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from crm_project.core.roles import role_of
from crm_project.core.tests.command_runs import refused
from crm_project.core.tests.factories import UserFactory
from opportunities.models import OpportunityStage
from opportunities.selectors import opportunity_pipeline_by_owner, opportunity_pipeline_stats

from .factories import LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

STATS_URL = "/api/v1/crm/opportunities/pipeline/stats"


def call(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def ravi(db):
    return UserFactory(username="ravi", first_name="Ravi", last_name="Rep", role="sales_rep")


@pytest.fixture
def riya(db):
    return UserFactory(username="riya", first_name="Riya", last_name="Rep", role="sales_rep")


@pytest.fixture
def pipeline(ravi, riya):
    """
    Ravi: 100,000 at 50 % in proposal, 20,000 at 10 % prospecting, a win of 30,000 and a loss.
    Riya: 200,000 at 20 % in negotiation and a win of 50,000. Nobody: 1,000 at 10 % prospecting.
    """
    OpportunityFactory(owner=ravi, stage=OpportunityStage.PROPOSAL, estimated_value=100_000, probability=50)
    OpportunityFactory(owner=ravi, estimated_value=20_000, probability=10)
    OpportunityFactory(owner=ravi, won=True, estimated_value=30_000)
    OpportunityFactory(owner=ravi, lost=True, estimated_value=40_000)
    OpportunityFactory(owner=riya, stage=OpportunityStage.NEGOTIATION, estimated_value=200_000, probability=20)
    OpportunityFactory(owner=riya, won=True, estimated_value=50_000)
    OpportunityFactory(owner=None, estimated_value=1_000, probability=10)


# --- the by-owner selector ------------------------------------------------------------------------


def test_by_owner_rows_are_the_stats_of_each_owner_in_one_query(
    pipeline, manager, ravi, riya, django_assert_num_queries
):
    role_of(manager)  # Read once per request in the API: not the selector's query.
    with django_assert_num_queries(1):
        rows = opportunity_pipeline_by_owner(manager)

    assert [(row["owner_id"], row["owner_name"]) for row in rows] == [
        (ravi.pk, "Ravi Rep"),  # Weighted 52,000.00
        (riya.pk, "Riya Rep"),  # Weighted 40,000.00
        (None, None),  # Weighted 100.00
    ]
    for row in rows:
        figures = {key: value for key, value in row.items() if key not in ("owner_id", "owner_name")}
        if row["owner_id"] is not None:
            assert figures == opportunity_pipeline_stats(manager, owner_id=row["owner_id"])
    ravi_row = rows[0]
    assert ravi_row["total_pipeline_value"] == Decimal("120000.00")
    assert ravi_row["weighted_pipeline_value"] == Decimal("52000.00")
    assert ravi_row["won_value"] == Decimal("30000.00")
    assert ravi_row["win_rate"] == Decimal("50.00")


def test_by_owner_rows_add_up_to_the_totals(pipeline, manager):
    rows = opportunity_pipeline_by_owner(manager)
    totals = opportunity_pipeline_stats(manager)
    for key in ("total_opportunities", "open_opportunities", "total_pipeline_value", "weighted_pipeline_value"):
        assert sum(row[key] for row in rows) == totals[key]


def test_by_owner_honours_visibility(pipeline, ravi):
    assert [row["owner_id"] for row in opportunity_pipeline_by_owner(ravi)] == [ravi.pk]


# --- pipeline_report ------------------------------------------------------------------------------


def test_pipeline_json_is_the_apis_answer_plus_a_row_per_owner(pipeline, manager_client, ravi):
    report = json.loads(call("pipeline_report", "--format", "json"))
    by_owner = report.pop("by_owner")

    assert report == manager_client.get(STATS_URL).json()
    assert report["total_pipeline_value"] == 321_000
    assert report["weighted_pipeline_value"] == 92_100
    assert report["win_rate"] == 66.67
    ravi_row = by_owner[0]
    assert (ravi_row.pop("owner_id"), ravi_row.pop("owner_name")) == (ravi.pk, "Ravi Rep")
    assert ravi_row == manager_client.get(STATS_URL, {"owner_id": ravi.pk}).json()


def test_pipeline_for_one_owner_is_the_apis_answer_for_that_owner(pipeline, manager_client, riya):
    report = json.loads(call("pipeline_report", "--owner", "riya", "--format", "json"))
    assert len(report.pop("by_owner")) == 1
    assert report == manager_client.get(STATS_URL, {"owner_id": riya.pk}).json()


def test_pipeline_table_shows_stages_totals_and_owners(pipeline):
    lines = call("pipeline_report").splitlines()

    assert lines[0] == "Pipeline of all owners: 7 opportunities, 4 open"
    assert lines[4].split() == ["Prospecting", "2", "21,000.00", "2,100.00"]
    assert lines[8].split() == ["Negotiation", "1", "200,000.00", "40,000.00"]
    assert lines[9].split() == ["Closed", "won", "2", "80,000.00", "80,000.00"]
    assert "Open pipeline: 321,000.00 total, 92,100.00 weighted" in lines
    assert "Won: 80,000.00; win rate 66.67 % (won ÷ (won + lost))" in lines
    assert lines[-3].split() == ["Ravi", "Rep", "2", "120,000.00", "52,000.00", "1", "1", "30,000.00", "50.00"]
    assert lines[-1].split() == ["(no", "owner)", "1", "1,000.00", "100.00", "0", "0", "0.00", "0.00"]


def test_pipeline_csv_has_a_row_per_owner_and_an_all_row(pipeline, ravi):
    rows = list(csv.DictReader(StringIO(call("pipeline_report", "--format", "csv"))))

    assert [row["owner"] for row in rows] == ["Ravi Rep", "Riya Rep", "(no owner)", "all"]
    assert rows[0]["owner_id"] == str(ravi.pk)
    assert rows[0]["weighted_pipeline_value"] == "52000.00"
    assert rows[0]["proposal_weighted_value"] == "50000.00"
    assert rows[-1]["total_pipeline_value"] == "321000.00"
    assert rows[-1]["closed_won_count"] == "2"


def test_pipeline_as_a_rep_is_the_reps_own(pipeline, client_for, ravi):
    report = json.loads(call("pipeline_report", "--as", "ravi", "--format", "json"))
    report.pop("by_owner")
    assert report == client_for(ravi).get(STATS_URL).json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "ghost"], "--owner: no user with the username or id 'ghost'."),
        (["--format", "xml"], "Error: argument --format: invalid choice: 'xml' (choose from 'table', 'csv', 'json')"),
        (["--as", "no_role"], "--as: no_role has no CRM role (sales rep or sales manager)."),
    ],
)
def test_pipeline_refuses_bad_input_in_one_line(no_role_user, args, message):
    assert refused("pipeline_report", *args) == message


def test_an_empty_pipeline_reports_zeros():
    assert json.loads(call("pipeline_report", "--format", "json"))["by_owner"] == []
    assert call("pipeline_report").startswith("Pipeline of all owners: 0 opportunities, 0 open")


# --- export_opportunities --------------------------------------------------------------------------


def test_export_opportunities_takes_the_api_lists_filters(pipeline, ravi):
    out = call("export_opportunities", "--owner", "ravi", "--is-closed", "false", "--min-value", "50000")
    rows = list(csv.DictReader(StringIO(out)))
    assert [(row["stage"], row["estimated_value"], row["owner"]) for row in rows] == [("proposal", "100000.00", "ravi")]


def test_export_opportunities_writes_links_and_json_as_text(ravi):
    lead = LeadFactory(lead_number="LEAD-X")
    OpportunityFactory(
        opportunity_number="OPP-X", lead=lead, owner=ravi, products_interested={"categories": ["Jackets"]}
    )
    row = next(csv.DictReader(StringIO(call("export_opportunities"))))
    assert (row["opportunity_number"], row["lead_number"], row["owner"]) == ("OPP-X", "LEAD-X", "ravi")
    assert json.loads(row["products_interested"]) == {"categories": ["Jackets"]}


def test_export_opportunities_refuses_contradictory_bounds():
    message = refused("export_opportunities", "--min-value", "10", "--max-value", "5")
    assert message == "--max-value: max_value must be greater than or equal to min_value."
