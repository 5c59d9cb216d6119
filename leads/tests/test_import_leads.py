"""``manage.py import_leads``: the file, the rows, and what reaches the database."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from crm_project.core.dates import start_of
from crm_project.core.models import DailySequence
from crm_project.core.tests.factories import UserFactory
from leads.lead_csv import COLUMNS
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

HEADER = "company_name,contact_person,email"


@pytest.fixture
def csv_file(tmp_path):
    """Write text (or bytes) to a file and return its path."""

    def write(content, name="leads.csv"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    return write


class Run:
    def __init__(self, out: str, err: str):
        self.out, self.err = out, err


def run(*args) -> Run:
    out, err = StringIO(), StringIO()
    call_command("import_leads", *args, stdout=out, stderr=err)
    return Run(out.getvalue(), err.getvalue())


def refused(*args) -> tuple[str, str]:
    """The one-line CommandError message, and what was listed on stderr before it."""
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_leads", *args, stdout=StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def today_number(n: int) -> str:
    return f"LEAD-{timezone.localdate():%Y%m%d}-{n:04d}"


# --- what a valid file creates -------------------------------------------------------------------


def test_import_creates_each_row_as_the_api_would(csv_file, rep):
    path = csv_file(
        ",".join(COLUMNS) + "\n"
        "Tech Solutions Ltd,John Doe,john@techsolutions.com,'+911234567890,Technology,50-100,"
        "https://techsolutions.com,Purchasing Manager,Mumbai,Maharashtra,India,website,high,50000.00,"
        'Bulk garments for corporate uniforms,"Met at the fair, wants samples",2025-12-20,rep\n'
        "Harbor Hotels,Anita Rao,anita@harbor.example,,,,,,,,,,,,,,,\n"
    )

    result = run(path)

    assert result.out.strip() == f"Created 2 leads from {path} ({today_number(1)} to {today_number(2)})."
    first = Lead.objects.get(email="john@techsolutions.com")
    assert first.lead_number == today_number(1)
    assert first.status == LeadStatus.NEW
    assert first.phone == "+911234567890"  # The spreadsheet's text marker is read back.
    assert (first.source, first.priority) == (LeadSource.WEBSITE, LeadPriority.HIGH)
    assert first.estimated_deal_value == Decimal("50000.00")
    assert first.notes == "Met at the fair, wants samples"
    assert first.next_follow_up_date == start_of(dt.date(2025, 12, 20))  # A date is its midnight.
    assert first.assigned_to == rep
    assert first.created_by is None  # The system imported it.
    second = Lead.objects.get(email="anita@harbor.example")
    assert (second.source, second.priority, second.assigned_to) == (LeadSource.OTHER, LeadPriority.MEDIUM, None)
    assert second.estimated_deal_value is None


def test_a_file_saved_with_a_bom_and_capitalised_headers_imports(csv_file):
    path = csv_file("\ufeffCompany_Name, Contact_Person ,EMAIL\r\nAcme,Asha,asha@acme.example\r\n".encode())
    assert "Created 1 lead from" in run(path).out
    assert Lead.objects.get().company_name == "Acme"


def test_blank_lines_are_skipped(csv_file):
    path = csv_file(f"{HEADER}\n\nAcme,Asha,asha@acme.example\n,,\n")
    assert "Created 1 lead from" in run(path).out


def test_a_file_with_only_its_header_imports_nothing_and_says_so(csv_file):
    path = csv_file(f"{HEADER}\n")
    assert run(path).out.strip() == f"{path} holds no rows to import."


# --- the file itself is wrong: one line, non-zero exit ---------------------------------------------


def test_a_missing_file_is_refused(tmp_path):
    message, _ = refused(str(tmp_path / "nope.csv"))
    assert message == f"{tmp_path / 'nope.csv'}: no such file."


def test_a_directory_is_refused(tmp_path):
    message, _ = refused(str(tmp_path))
    assert message == f"{tmp_path} is a directory, not a CSV file."


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(csv_file):
    path = csv_file(f"{HEADER}\nCafé Uniformes,José,jose@cafe.example\n".encode("latin-1"))
    message, _ = refused(path)
    assert message == f"{path}: The file is not UTF-8 text (line 2): save it as 'CSV UTF-8' and try again."
    assert not Lead.objects.exists()


def test_an_empty_file_is_refused(csv_file):
    message, _ = refused(csv_file(""))
    assert message.endswith("is empty: row 1 must name the columns.")


def test_unknown_columns_are_named(csv_file):
    message, _ = refused(csv_file(f"{HEADER},status,fax\nAcme,Asha,asha@acme.example,new,123\n"))
    assert "unknown column(s) status, fax (the columns are: company_name, contact_person, email" in message


def test_a_missing_required_column_is_named(csv_file):
    message, _ = refused(csv_file("company_name,email\nAcme,asha@acme.example\n"))
    assert message.endswith("missing required column(s) contact_person.")


def test_a_repeated_column_is_named(csv_file):
    message, _ = refused(csv_file(f"{HEADER},email\nAcme,Asha,a@acme.example,b@acme.example\n"))
    assert message.endswith("repeated column(s) email.")


def test_a_nul_character_is_a_row_error_as_in_the_api(csv_file):
    _, listed = refused(csv_file(f"{HEADER}\nAcme,Asha,asha@acme.example\nBad\0Co,B,b@acme.example\n"))
    assert listed.strip() == "Row 3: company_name: Null characters are not allowed."


# --- invalid rows: listed by spreadsheet row number, all or nothing ---------------------------------


@pytest.fixture
def mixed_file(csv_file):
    """Rows 2 and 6 are valid; 3, 5, 7 and 8 are not, each for its own reason (row 4 spans two lines)."""
    LeadFactory(email="Taken@Acme.example")
    return csv_file(
        "company_name,contact_person,email,priority,estimated_deal_value,notes\n"
        "Good One,Asha,good1@acme.example,high,100,\n"  # row 2
        "Bad Email,Ravi,not-an-email,highest,-5,\n"  # row 3
        'Multi Line,Meera,multi@acme.example,low,,"first line\nsecond line"\n'  # row 4, valid
        "Taken,Tara,TAKEN@acme.example,,,\n"  # row 5
        "Good Two,Omar,good2@acme.example,,,\n"  # row 6
        "Again,Omar,GOOD2@ACME.example,,,\n"  # row 7
        ",Nobody,nobody@acme.example,,,\n"  # row 8
    )


def test_invalid_rows_are_listed_by_row_number_and_nothing_is_created(mixed_file):
    message, listed = refused(mixed_file)

    lines = listed.splitlines()
    # The API's own messages, field by field.
    assert lines[0].startswith(
        'Row 3: email: Enter a valid email address.; priority: "highest" is not a valid choice; '
        "choose one of: low, medium, high, urgent."
    )
    assert "; estimated_deal_value: " in lines[0]
    assert lines[1:] == [
        "Row 5: email: A lead with this email already exists.",
        "Row 7: email: Same email as row 6.",
        "Row 8: company_name: This field is required.",
    ]
    assert message == (
        f"Nothing imported from {mixed_file}: 4 of 7 rows are invalid (listed above). "
        "Fix them, or use --skip-invalid to import the 3 valid rows."
    )
    assert Lead.objects.count() == 1
    assert not DailySequence.objects.exists()  # Not even a number was taken.


def test_a_value_repeated_over_rows_is_checked_on_every_row(csv_file):
    # The row check remembers its answers for a text seen before; a refusal must still come
    # back on every row that has it, and a valid value be taken on every row.
    path = csv_file(
        "company_name,contact_person,email,priority,city,estimated_deal_value\n"
        "A,Asha,a@acme.example,highest,Pune,100\n"
        "B,Asha,b@acme.example,highest,Pune,100\n"
        "C,Asha,c@acme.example,urgent,Pune,-1\n"
        "D,Asha,d@acme.example,urgent,Pune,-1\n"
        "E,Asha,e@acme.example,urgent,Pune,100\n"
    )

    _, listed = refused(path)
    assert [line.split(":")[0] for line in listed.splitlines()] == ["Row 2", "Row 3", "Row 4", "Row 5"]
    assert listed.count('priority: "highest" is not a valid choice') == 2
    assert listed.count("estimated_deal_value:") == 2

    run(path, "--skip-invalid")

    lead = Lead.objects.get()
    assert (lead.email, lead.priority, lead.city, lead.estimated_deal_value) == (
        "e@acme.example",
        LeadPriority.URGENT,
        "Pune",
        Decimal("100"),
    )


def test_skip_invalid_creates_the_valid_rows_and_reports_the_others(mixed_file):
    result = run(mixed_file, "--skip-invalid")

    assert result.err.count("Row ") == 4
    assert result.out.strip() == (
        f"Created 3 leads from {mixed_file} ({today_number(1)} to {today_number(3)}); 4 invalid rows skipped."
    )
    assert set(Lead.objects.filter(lead_number__startswith="LEAD-2").values_list("email", flat=True)) == {
        "good1@acme.example",
        "multi@acme.example",
        "good2@acme.example",
    }
    assert Lead.objects.get(email="multi@acme.example").notes == "first line\nsecond line"


def test_dry_run_checks_every_row_and_writes_nothing(mixed_file):
    message, listed = refused(mixed_file, "--dry-run")
    assert message.startswith(f"Dry run: nothing would be imported from {mixed_file}: 4 of 7 rows are invalid")
    assert listed.count("Row ") == 4
    assert Lead.objects.count() == 1


def test_dry_run_of_a_valid_file_says_what_would_be_created(csv_file):
    path = csv_file(f"{HEADER}\nAcme,Asha,a@acme.example\nBeta,Bo,b@acme.example\n")
    assert run(path, "--dry-run").out.strip() == "Dry run: 2 of 2 rows would be created. Nothing was written."
    assert not Lead.objects.exists()
    assert not DailySequence.objects.exists()


def test_dry_run_with_skip_invalid_reports_and_exits_cleanly(mixed_file):
    result = run(mixed_file, "--dry-run", "--skip-invalid")
    assert result.out.strip() == "Dry run: 3 of 7 rows would be created; 4 invalid rows skipped. Nothing was written."
    assert Lead.objects.count() == 1


def test_a_row_with_more_values_than_columns_is_refused(csv_file):
    _, listed = refused(csv_file(f"{HEADER}\nAcme,Asha,a@acme.example,extra\n"))
    assert listed.strip() == "Row 2: row: 4 values, but the header names 3 columns."


def test_a_row_with_fewer_values_leaves_the_missing_columns_empty(csv_file):
    path = csv_file(f"{HEADER},city,country\nAcme,Asha,a@acme.example,Pune\n")
    run(path)
    assert (Lead.objects.get().city, Lead.objects.get().country) == ("Pune", "")


# --- who is assigned, and who acts ----------------------------------------------------------------


def test_assign_to_fills_the_empty_assignee_cells_only(csv_file, rep, other_rep):
    path = csv_file(f"{HEADER},assigned_to\nAcme,Asha,a@acme.example,\nBeta,Bo,b@acme.example,other_rep\n")

    run(path, "--assign-to", "rep")

    assert Lead.objects.get(email="a@acme.example").assigned_to == rep
    assert Lead.objects.get(email="b@acme.example").assigned_to == other_rep


def test_an_assignee_must_be_an_active_user(csv_file, rep):
    UserFactory(username="gone", is_active=False)
    path = csv_file(f"{HEADER},assigned_to\nAcme,Asha,a@acme.example,gone\nBeta,Bo,b@acme.example,ghost\n")

    _, listed = refused(path)

    assert listed.splitlines() == [
        "Row 2: assigned_to: No active user with the username 'gone'.",
        "Row 3: assigned_to: No active user with the username 'ghost'.",
    ]


def test_assign_to_an_unknown_or_deactivated_user_is_refused(csv_file):
    path = csv_file(f"{HEADER}\nAcme,Asha,a@acme.example\n")
    UserFactory(username="gone", is_active=False)
    assert refused(path, "--assign-to", "ghost")[0] == "--assign-to: no user with the username or id 'ghost'."
    assert refused(path, "--assign-to", "gone")[0] == "--assign-to: gone is deactivated."


def test_as_a_rep_the_reps_rules_apply_and_the_rep_is_the_creator(csv_file, rep, other_rep):
    path = csv_file(f"{HEADER},assigned_to\nMine,Asha,a@acme.example,rep\nTheirs,Bo,b@acme.example,other_rep\n")

    result = run(path, "--as", "rep", "--skip-invalid")

    assert result.err.strip().startswith("Row 3: assigned_to: Sales reps can assign leads only to themselves")
    lead = Lead.objects.get()
    assert (lead.email, lead.created_by, lead.assigned_to) == ("a@acme.example", rep, rep)


def test_as_a_user_without_a_crm_role_is_refused(csv_file, no_role_user):
    path = csv_file(f"{HEADER}\nAcme,Asha,a@acme.example\n")
    assert refused(path, "--as", "no_role")[0] == "--as: no_role has no CRM role (sales rep or sales manager)."


def test_import_queries_stay_few_for_many_rows(csv_file, rep, django_assert_max_num_queries):
    rows = "".join(f"Co {n},Person {n},p{n}@acme.example,rep\n" for n in range(200))
    path = csv_file(f"{HEADER},assigned_to\n{rows}")
    # One assignee lookup, the counter lock, one email lookup, the number block, the INSERTs
    # (one on PostgreSQL; SQLite's parameter limit takes several), savepoint and release.
    with django_assert_max_num_queries(20):
        run(path)
    assert Lead.objects.count() == 200


def test_a_file_of_only_invalid_rows_says_to_fix_them(csv_file):
    LeadFactory(email="taken@acme.example")
    path = csv_file(f"{HEADER}\nAcme,Asha,taken@acme.example\n")
    message, _ = refused(path)
    assert message == f"Nothing imported from {path}: 1 of 1 row is invalid (listed above). Fix it and import again."
