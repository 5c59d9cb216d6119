"""The shared plumbing of the manager commands (``crm_project/core/commands.py``)."""

import argparse
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.utils import timezone

from crm_project.core import commands
from crm_project.core.exceptions import Conflict
from crm_project.core.roles import is_manager
from leads.filters import LeadFilterSet
from leads.models import Lead

from .factories import UserFactory

pytestmark = pytest.mark.django_db


# --- who acts ---------------------------------------------------------------------------------------


def test_the_system_actor_is_a_manager_recorded_as_nobody():
    actor = commands.system_actor()
    assert is_manager(actor)
    assert actor.pk is None


def test_a_user_is_found_by_username_or_else_by_id():
    ravi = UserFactory(username="ravi")
    numeric = UserFactory(username=str(ravi.pk + 100))
    assert commands.find_user("ravi", option="--as") == ravi
    assert commands.find_user(f" {ravi.pk} ", option="--as") == ravi
    assert commands.find_user(numeric.username, option="--as") == numeric  # The username wins.


@pytest.mark.parametrize("value", ["ghost", "0", "99999999999999999999", ""])
def test_an_unknown_user_is_a_one_line_error_naming_the_option(value):
    with pytest.raises(CommandError, match=rf"^--to: no user with the username or id '{value}'\.$"):
        commands.find_user(value, option="--to")


def test_a_crm_user_must_be_active_and_have_a_role(rep):
    UserFactory(username="gone", role="sales_rep", is_active=False)
    UserFactory(username="outsider")
    assert commands.find_crm_user("rep", option="--as") == rep
    with pytest.raises(CommandError, match=r"^--as: gone is deactivated\.$"):
        commands.find_crm_user("gone", option="--as")
    with pytest.raises(CommandError, match=r"^--as: outsider has no CRM role"):
        commands.find_crm_user("outsider", option="--as")


def test_the_actor_is_the_as_user_or_the_system(rep):
    assert commands.actor_from({"actor": "rep"}) == rep
    assert commands.actor_from({"actor": None}).get_username() == "system"


# --- dates and refusals -------------------------------------------------------------------------------


def test_a_day_is_parsed_strictly_and_defaults_to_today():
    assert commands.parse_day("2025-12-15", option="--date") == dt.date(2025, 12, 15)
    for bad in ("15/12/2025", "2025-02-30", "tomorrow"):
        with pytest.raises(CommandError, match=rf"^--date: '{bad}' is not a date; use YYYY-MM-DD\.$"):
            commands.parse_day(bad, option="--date")
    assert commands.parse_day(None, option="--date") == timezone.localdate()


def test_a_bound_is_a_date_or_a_timestamp_as_in_the_api():
    assert commands.parse_bound("2025-12-15", option="--since") == dt.date(2025, 12, 15)
    assert commands.parse_bound("2025-12-15T10:00:00+05:30", option="--since") == dt.datetime(
        2025, 12, 15, 4, 30, tzinfo=dt.UTC
    )
    assert commands.parse_bound(None, option="--since") is None
    with pytest.raises(CommandError, match=r"^--since: Enter a date"):
        commands.parse_bound("soon", option="--since")
    with pytest.raises(CommandError, match=r"^--since: The date is outside the supported range\.$"):
        commands.parse_bound("9999-12-31", option="--since")


@pytest.mark.parametrize(
    ("refusal", "message"),
    [
        (ValidationError({"email": ["Taken."]}), "email: Taken."),
        (Conflict("Closed already."), "Closed already."),
        (PermissionDenied("Managers only."), "Managers only."),
    ],
)
def test_a_services_refusal_becomes_a_command_error(refusal, message):
    with pytest.raises(CommandError) as failure, commands.refusals_as_command_errors():
        raise refusal
    assert str(failure.value) == message


# --- filters -------------------------------------------------------------------------------------------


def parse(*argv) -> dict:
    parser = argparse.ArgumentParser()
    commands.add_filter_arguments(parser, LeadFilterSet)
    return vars(parser.parse_args(argv))


def test_every_query_parameter_of_the_api_list_is_an_option():
    options = parse()
    assert set(options) == {f"filter_{name}" for name in LeadFilterSet.base_filters}
    help_text = StringIO()
    parser = argparse.ArgumentParser()
    commands.add_filter_arguments(parser, LeadFilterSet)
    parser.print_help(help_text)
    assert "--assigned-to USER" in help_text.getvalue()  # A user filter takes a username.
    assert "One of: new, contacted, qualified, converted, lost." in " ".join(help_text.getvalue().split())


def test_options_filter_through_the_filterset(rep):
    wanted = Lead.objects.create(lead_number="L-1", company_name="A", contact_person="A", email="a@x", assigned_to=rep)
    Lead.objects.create(lead_number="L-2", company_name="B", contact_person="B", email="b@x")
    filtered = commands.filtered(Lead.objects.all(), LeadFilterSet, parse("--assigned-to", "rep"))
    assert list(filtered) == [wanted]


def test_several_bad_options_are_reported_together():
    with pytest.raises(CommandError) as failure:
        commands.filtered(Lead.objects.all(), LeadFilterSet, parse("--status", "x", "--is-qualified", "y"))
    assert str(failure.value) == (
        "--status: x is not a valid choice; choose one of: new, contacted, qualified, converted, lost.; "
        "--is-qualified: Enter true or false."
    )


# --- output ----------------------------------------------------------------------------------------------


def test_a_table_right_aligns_numbers_and_shows_money_and_times_readably(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    text = commands.table(
        ("Who", "Count", "Value", "When"),
        [
            ("Ravi", 1200, Decimal("1234.5"), dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
            ("Riya", 7, None, None),
        ],
    )
    assert text.splitlines() == [
        "Who   Count     Value  When",
        "----  -----  --------  ----------------",
        "Ravi  1,200  1,234.50  2025-01-01 05:30",
        "Riya      7         -  -",
    ]


@pytest.mark.parametrize("text", ["=1+2", "+91 98", "-5", "@SUM(A1)", "\tx", "plain", "'quoted", "", "'=kept"])
def test_spreadsheet_safe_text_reads_back_unchanged(text):
    safe = commands.spreadsheet_safe(text)
    assert not safe.startswith(commands.FORMULA_STARTS)  # Nothing a spreadsheet would run.
    assert commands.from_spreadsheet(safe) == text


def test_csv_values_are_iso_times_plain_decimals_and_json(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    assert commands.csv_value(dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) == "2025-01-01T05:30:00+05:30"
    assert commands.csv_value(Decimal("1500")) == "1500.00"
    assert commands.csv_value(True) == "true"
    assert commands.csv_value(None) == ""
    assert commands.csv_value({"a": [1]}) == '{"a":[1]}'


def test_json_is_the_apis_encoding_indented():
    assert commands.json_text({"value": Decimal("10.50")}) == '{\n  "value": 10.5\n}'


def test_an_output_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), commands.output_file(str(target), StringIO()) as stream:
        stream.write("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []

    with commands.output_file(str(target), StringIO()) as stream:
        stream.write("whole")
    assert target.read_text() == "whole"


@pytest.mark.parametrize("path", [None, "", "-"])
def test_no_output_file_means_stdout(path):
    stdout = StringIO()
    with commands.output_file(path, stdout) as stream:
        assert stream is stdout
