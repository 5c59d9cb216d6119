"""``manage.py export_leads`` and its round trip through ``import_leads``."""

import csv
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.utils import timezone

from crm_project.core.tests.command_runs import call, refused
from leads.lead_csv import COLUMNS
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def exported(*args) -> list[dict]:
    out, _ = call("export_leads", *args)
    return list(csv.DictReader(StringIO(out)))


# --- export_leads ---------------------------------------------------------------------------------


def test_export_writes_the_import_columns_oldest_first(rep):
    now = timezone.now()
    older = LeadFactory(company_name="Older", created_at=now - dt.timedelta(days=2), assigned_to=rep)
    LeadFactory(company_name="Newer", created_at=now, estimated_deal_value=Decimal("1500.5"))

    out, err = call("export_leads")

    rows = list(csv.reader(StringIO(out)))
    assert rows[0] == list(COLUMNS)
    assert [row[0] for row in rows[1:]] == ["Older", "Newer"]
    assert dict(zip(COLUMNS, rows[1], strict=True))["assigned_to"] == "rep"
    assert dict(zip(COLUMNS, rows[2], strict=True))["estimated_deal_value"] == "1500.50"
    assert err.strip() == "Exported 2 leads."
    assert older.email in out


def test_export_takes_the_api_lists_filters(rep, other_rep):
    LeadFactory(company_name="Match", status=LeadStatus.CONTACTED, assigned_to=rep, source=LeadSource.REFERRAL)
    LeadFactory(company_name="Wrong status", status=LeadStatus.NEW, assigned_to=rep, source=LeadSource.REFERRAL)
    LeadFactory(company_name="Wrong rep", status=LeadStatus.CONTACTED, assigned_to=other_rep)
    LeadFactory(company_name="Wrong source", status=LeadStatus.CONTACTED, assigned_to=rep)

    rows = exported("--status", "contacted", "--assigned-to", "rep", "--source", "referral", "--search", "mat")

    assert [row["company_name"] for row in rows] == ["Match"]


def test_export_date_filters_are_inclusive_days_as_in_the_api():
    LeadFactory(company_name="In", created_at=dt.datetime(2025, 3, 31, 23, 59, tzinfo=dt.UTC))
    LeadFactory(company_name="Out", created_at=dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    assert [row["company_name"] for row in exported("--created-before", "2025-03-31")] == ["In"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--status", "bogus"],
            "--status: bogus is not a valid choice; choose one of: new, contacted, qualified, converted, lost.",
        ),
        (["--is-qualified", "maybe"], "--is-qualified: Enter true or false."),
        (["--created-after", "yesterday"], "--created-after: Enter a date (YYYY-MM-DD) or an ISO 8601 timestamp."),
        (["--assigned-to", "ghost"], "--assigned-to: no user with the username or id 'ghost'."),
        (["--as", "ghost"], "--as: no user with the username or id 'ghost'."),
    ],
)
def test_export_refuses_bad_filters_in_one_line(args, message):
    assert refused("export_leads", *args) == message


def test_export_as_a_rep_holds_only_what_the_rep_may_see(rep, other_rep):
    LeadFactory(company_name="Mine", assigned_to=rep)
    LeadFactory(company_name="Unassigned", assigned_to=None)
    LeadFactory(company_name="Theirs", assigned_to=other_rep)
    assert {row["company_name"] for row in exported("--as", "rep")} == {"Mine", "Unassigned"}


def test_export_to_a_file_says_where_and_writes_nothing_on_stdout(tmp_path):
    LeadFactory.create_batch(3)
    target = tmp_path / "leads.csv"

    out, err = call("export_leads", "--output", str(target))

    assert out.strip() == f"Exported 3 leads to {target}."
    assert err == ""
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 3
    assert target.stat().st_mode & 0o077 == 0  # Customer contact data: readable by its owner only.


def test_a_refused_export_leaves_no_file_behind(tmp_path):
    target = tmp_path / "leads.csv"
    refused("export_leads", "--output", str(target), "--status", "bogus")
    assert list(tmp_path.iterdir()) == []


def test_an_export_into_a_missing_directory_is_refused(tmp_path):
    message = refused("export_leads", "--output", str(tmp_path / "no" / "leads.csv"))
    assert message.startswith("--output: cannot write to")


def test_export_neutralises_spreadsheet_formulas():
    LeadFactory(company_name='=HYPERLINK("http://evil.example")', phone="+91 98")
    row = exported()[0]
    assert row["company_name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["phone"] == "'+91 98"


def test_export_streams_in_a_fixed_number_of_queries(django_assert_max_num_queries, rep):
    LeadFactory.create_batch(30, assigned_to=rep)
    with django_assert_max_num_queries(2):
        rows = exported()
    assert len(rows) == 30


# --- the round trip -------------------------------------------------------------------------------


def comparable(lead: Lead) -> dict:
    return {column: getattr(lead, column) for column in COLUMNS}


def test_exported_leads_import_back_unchanged(tmp_path, rep, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # Times leave and come back with their offset.
    LeadFactory(
        company_name="Tech Solutions Ltd",
        industry="Technology",
        company_size="50-100",
        website="https://techsolutions.example",
        contact_person="John Doe",
        title_position="Purchasing Manager",
        email="john@techsolutions.example",
        phone="+911234567890",
        city="Mumbai",
        state="Maharashtra",
        country="India",
        source=LeadSource.TRADE_SHOW,
        priority=LeadPriority.URGENT,
        estimated_deal_value=Decimal("50000.00"),
        requirements='Uniforms, "premium" cotton\nfor 500 staff',
        notes="Café meeting, São Paulo office; -20% asked",
        next_follow_up_date=dt.datetime(2025, 12, 20, 10, 30, tzinfo=dt.UTC),
        assigned_to=rep,
    )
    LeadFactory(company_name="Bare Minimum", contact_person="A", email="bare@min.example", website="")
    before = {lead.email: comparable(lead) for lead in Lead.objects.all()}
    path = tmp_path / "leads.csv"
    call("export_leads", "--output", str(path))
    Lead.objects.all().delete()

    out, err = call("import_leads", str(path))

    assert err == ""
    assert out.startswith("Created 2 leads")
    assert {lead.email: comparable(lead) for lead in Lead.objects.all()} == before
