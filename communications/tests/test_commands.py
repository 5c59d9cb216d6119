"""``manage.py followups_digest`` and ``manage.py engagement_report``."""

import csv
import datetime as dt
import json
import smtplib
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from crm_project.core.tests.command_runs import call, refused
from crm_project.core.tests.factories import UserFactory
from customers.tests.factories import CustomerFactory
from leads.models import LeadStatus

from .factories import CommunicationFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def ravi(db):
    return UserFactory(username="ravi", first_name="Ravi", last_name="Rep", email="ravi@example.com", role="sales_rep")


@pytest.fixture
def riya(db):
    return UserFactory(username="riya", first_name="Riya", last_name="Rep", email="", role="sales_rep")


def follow_up(representative, due, **fields):
    return CommunicationFactory(
        our_representative=representative, requires_follow_up=True, follow_up_date=due, **fields
    )


@pytest.fixture
def tenth_of_march(ravi, riya):
    """
    Ravi: a lead due on the 10th, one overdue, and two communication follow-ups (one
    overdue); Riya (no email address): one follow-up; one unassigned lead. Around them,
    what the digest leaves out: a converted lead, tomorrow's, a completed follow-up.
    """
    LeadFactory(lead_number="LEAD-A", company_name="Apex", assigned_to=ravi, next_follow_up_date=at(10, 9))
    LeadFactory(
        lead_number="LEAD-B",
        company_name="Blue",
        assigned_to=ravi,
        status=LeadStatus.CONTACTED,
        next_follow_up_date=at(7, 10),
    )
    LeadFactory(lead_number="LEAD-E", company_name="Echo", assigned_to=None, next_follow_up_date=at(10, 11))
    LeadFactory(assigned_to=ravi, status=LeadStatus.CONVERTED, next_follow_up_date=at(10, 9))
    LeadFactory(assigned_to=ravi, next_follow_up_date=at(11, 9))
    harbor = CustomerFactory(customer_code="CUST-H", company_name="Harbor Hotels")
    follow_up(ravi, at(10, 15), customer=harbor, subject="Send the quotation", contact_person="Anita Rao")
    follow_up(
        ravi,
        at(1, 12),
        customer=harbor,
        subject="Samples",
        opportunity=OpportunityFactory(opportunity_number="OPP-S", customer=harbor),
    )
    follow_up(ravi, at(10, 8), customer=harbor, follow_up_completed=True)
    follow_up(ravi, at(11, 8), customer=harbor)
    follow_up(riya, at(10, 10), lead=LeadFactory(lead_number="LEAD-R", company_name="Rose"), customer=None)


def section(output: str, title: str) -> list[str]:
    """The lines of one person's table, without the title, headers and rule."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return [line.strip() for line in lines[start + 3 : end]]


# --- followups_digest -----------------------------------------------------------------------------


def test_digest_lists_each_persons_follow_ups_of_the_day_and_the_overdue_ones(tenth_of_march):
    out, _ = call("followups_digest", "--date", "2025-03-10")

    assert out.splitlines()[0] == "Follow-ups for Monday 10 March 2025 (TIME_ZONE UTC), overdue ones included"
    assert "Ravi Rep (ravi) <ravi@example.com>: 2 leads, 2 communications, 2 overdue" in out
    ravi_rows = section(out, "Ravi Rep (ravi)")
    assert [row.split()[:3] for row in ravi_rows] == [
        ["2025-03-01", "12:00", "OVERDUE"],
        ["2025-03-07", "10:00", "OVERDUE"],
        ["2025-03-10", "09:00", "Lead"],
        ["2025-03-10", "15:00", "Phone"],
    ]
    assert "OPP-S" in ravi_rows[0] and "Harbor Hotels" in ravi_rows[0]
    assert "LEAD-B" in ravi_rows[1] and "LEAD-A" in ravi_rows[2]
    assert "Phone call: Send the quotation" in ravi_rows[3] and "CUST-H" in ravi_rows[3]
    assert "Riya Rep (riya): 0 leads, 1 communication" in out
    assert "LEAD-R" in section(out, "Riya Rep (riya)")[0]
    assert "Unassigned: 1 lead, 0 communications" in out
    assert out.index("Ravi Rep") < out.index("Riya Rep") < out.index("Unassigned")
    assert out.splitlines()[-1] == "Total: 3 lead follow-ups and 3 communication follow-ups, 2 overdue."


def test_digest_for_another_day_moves_what_counts_as_overdue(tenth_of_march):
    out, _ = call("followups_digest", "--date", "2025-03-11", "--representative", "ravi")
    rows = section(out, "Ravi Rep (ravi)")
    assert len(rows) == 6  # The 11th's lead and follow-up join; the 10th's are now overdue.
    assert sum("OVERDUE" in row for row in rows) == 4
    assert "Riya" not in out and "Unassigned" not in out


def test_digest_for_one_representative_takes_a_username_or_an_id(tenth_of_march, riya):
    by_name, _ = call("followups_digest", "--date", "2025-03-10", "--representative", "riya")
    by_id, _ = call("followups_digest", "--date", "2025-03-10", "--representative", str(riya.pk))
    assert by_name == by_id
    assert "Ravi" not in by_name and "Total: 0 lead follow-ups and 1 communication follow-up, 0 overdue." in by_name


def test_digest_defaults_to_today_in_the_time_zone(ravi):
    LeadFactory(lead_number="LEAD-NOW", assigned_to=ravi, next_follow_up_date=timezone.now())
    out, _ = call("followups_digest")
    assert f"{timezone.localdate():%A %d %B %Y}" in out.splitlines()[0]
    assert "LEAD-NOW" in out


def test_a_day_without_follow_ups_says_so(ravi):
    out, _ = call("followups_digest", "--date", "2025-03-10")
    assert out.splitlines()[-1] == "Nothing to follow up."


def test_digest_reads_in_a_fixed_number_of_queries(tenth_of_march, ravi, django_assert_max_num_queries):
    for day in range(1, 10):
        follow_up(ravi, at(day, 9), lead=LeadFactory(assigned_to=ravi, next_follow_up_date=at(day, 9)))
    with django_assert_max_num_queries(2):
        call("followups_digest", "--date", "2025-03-10")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "10/03/2025"], "--date: '10/03/2025' is not a date; use YYYY-MM-DD."),
        (["--date", "2025-02-30"], "--date: '2025-02-30' is not a date; use YYYY-MM-DD."),
        (["--representative", "ghost"], "--representative: no user with the username or id 'ghost'."),
        (["--representative", "99999999999999"], "--representative: no user with the username or id '99999999999999'."),
    ],
)
def test_digest_refuses_bad_input_in_one_line(args, message):
    assert refused("followups_digest", *args) == message


def test_email_sends_each_representative_their_own_list(tenth_of_march):
    out, _ = call("followups_digest", "--date", "2025-03-10", "--email")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ravi@example.com"]
    assert message.subject == "Your follow-ups for 10 Mar 2025: 4 to do, 2 overdue"
    assert message.body.startswith("Hello Ravi Rep,\n\nyour follow-ups for Monday 10 March 2025: 2 leads")
    assert all(reference in message.body for reference in ("LEAD-A", "LEAD-B", "OPP-S", "CUST-H"))
    assert "LEAD-R" not in message.body and "LEAD-E" not in message.body
    assert "Emailed 1 digest." in out
    assert "Not emailed: Riya Rep (riya): no email address." in out
    assert "Not emailed: Unassigned (1 lead, 0 communications): nobody to email." in out


def test_email_skips_a_deactivated_representative(tenth_of_march, ravi):
    ravi.is_active = False
    ravi.save()
    out, _ = call("followups_digest", "--date", "2025-03-10", "--email")
    assert mail.outbox == []
    assert "Not emailed: Ravi Rep (ravi): deactivated." in out


class RefusingRavi(EmailBackend):
    """The locmem backend, except that the server refuses ravi's address."""

    def send_messages(self, messages):
        if any("ravi@example.com" in message.to for message in messages):
            raise smtplib.SMTPRecipientsRefused({"ravi@example.com": (550, b"No such mailbox")})
        return super().send_messages(messages)


def test_a_refused_message_is_reported_the_others_sent_and_the_exit_is_non_zero(tenth_of_march, riya, settings):
    riya.email = "riya@example.com"
    riya.save()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingRavi"
    err = StringIO()

    with pytest.raises(CommandError, match=r"^1 digest could not be sent \(see above\)\.$"):
        call_command("followups_digest", "--date", "2025-03-10", "--email", stdout=StringIO(), stderr=err)

    assert [message.to for message in mail.outbox] == [["riya@example.com"]]
    assert err.getvalue().startswith("Sending failed: Ravi Rep (ravi): ")


# --- engagement_report ------------------------------------------------------------------------------


@pytest.fixture
def march_engagement(ravi, riya):
    harbor = CustomerFactory()
    CommunicationFactory(our_representative=ravi, customer=harbor, communication_date=at(3, 9), duration_minutes=30)
    CommunicationFactory(
        our_representative=ravi, customer=harbor, communication_date=at(5, 9), type="email", direction="inbound"
    )
    CommunicationFactory(our_representative=riya, communication_date=at(20, 9), duration_minutes=15)
    follow_up(riya, at(21, 9), communication_date=at(20, 10), follow_up_completed=True)
    CommunicationFactory(our_representative=ravi, communication_date=dt.datetime(2025, 4, 1, tzinfo=dt.UTC))


ENGAGEMENT_URL = "/api/v1/crm/communications/analytics/engagement"


def test_engagement_json_is_the_apis_answer(march_engagement, manager_client, ravi):
    out, _ = call("engagement_report", "--since", "2025-03-01", "--until", "2025-03-31", "--format", "json")
    api = manager_client.get(ENGAGEMENT_URL, {"start_date": "2025-03-01", "end_date": "2025-03-31"})
    assert json.loads(out) == api.json()
    assert json.loads(out)["total"] == 4

    out, _ = call("engagement_report", "--representative", "ravi", "--format", "json")
    assert json.loads(out) == manager_client.get(ENGAGEMENT_URL, {"representative_id": ravi.pk}).json()


def test_engagement_table_shows_the_figures_and_a_row_per_representative(march_engagement):
    out, _ = call("engagement_report", "--since", "2025-03-01", "--until", "2025-03-31")
    lines = out.splitlines()
    assert lines[0] == "Engagement from 2025-03-01 to 2025-03-31"
    assert "Communications: 4 (inbound 1, outbound 3)" in lines
    assert "By type: phone 3, email 1" in lines
    assert "Average duration: 22.50 min" in lines
    assert "Follow-ups: 1 required, 1 completed (100.00 %), 0 overdue" in lines
    assert [line.split() for line in lines[-2:]] == [["Ravi", "Rep", "2", "30"], ["Riya", "Rep", "2", "15"]]


def test_engagement_csv_has_the_per_representative_rows(march_engagement, ravi, riya):
    out, _ = call("engagement_report", "--until", "2025-03-31", "--format", "csv")
    assert list(csv.reader(StringIO(out))) == [
        ["representative_id", "name", "count", "total_duration_minutes"],
        [str(ravi.pk), "Ravi Rep", "2", "30"],
        [str(riya.pk), "Riya Rep", "2", "15"],
    ]


def test_engagement_as_a_rep_counts_only_what_the_rep_may_see(march_engagement, ravi):
    out, _ = call("engagement_report", "--as", "ravi", "--format", "json")
    assert json.loads(out)["total"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "March"], "--since: Enter a date (YYYY-MM-DD) or an ISO 8601 timestamp."),
        (
            ["--since", "2025-03-31", "--until", "2025-03-01"],
            "--until: The end of the range must not be before its start (start_date).",
        ),
        (["--representative", "ghost"], "--representative: no user with the username or id 'ghost'."),
        (["--format", "xml"], "Error: argument --format: invalid choice: 'xml' (choose from 'table', 'csv', 'json')"),
    ],
)
def test_engagement_refuses_bad_input_in_one_line(args, message):
    assert refused("engagement_report", *args) == message
