"""
``manage.py followups_digest [--date D] [--representative USER] [--email]``: each
representative's follow-ups for a day, from the selectors behind the API's
``/leads/follow-ups/today`` and ``/communications/follow-ups/pending``.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError

from communications.models import Communication
from communications.selectors import pending_follow_ups
from crm_project.core.api.filters import start_of
from crm_project.core.commands import display_name, find_user, parse_day, system_actor, table
from leads.models import Lead
from leads.selectors import lead_follow_ups_due_today

HEADERS = ("Due", "", "What", "Reference", "Company", "Contact")
OVERDUE = "OVERDUE"


@dataclass
class Digest:
    """One representative's follow-ups (``user`` is None for the unassigned ones)."""

    user: object | None
    rows: list[tuple] = field(default_factory=list)
    leads: int = 0
    communications: int = 0
    overdue: int = 0

    @property
    def title(self) -> str:
        if self.user is None:
            return "Unassigned"
        email = f" <{self.user.email}>" if self.user.email else ""
        return f"{display_name(self.user)}{email}"

    @property
    def counts(self) -> str:
        overdue = f", {self.overdue} overdue" if self.overdue else ""
        return f"{self.leads} lead(s), {self.communications} communication(s){overdue}"


class Command(BaseCommand):
    help = (
        "Each representative's follow-ups for a day (default today in TIME_ZONE): open leads whose next "
        "follow-up falls that day, and pending communication follow-ups due by its end, with overdue ones "
        "(due before that day) marked. With --email each representative is sent their own list through "
        "Django's email backend (EMAIL_* settings); users without an email address are reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="The day (default: today in TIME_ZONE).")
        parser.add_argument(
            "--representative", metavar="USER", help="Only this user's follow-ups (username or user id)."
        )
        parser.add_argument("--email", action="store_true", help="Email each representative their own list.")

    def handle(self, *args, **options):
        day = parse_day(options["date"], option="--date")
        user_id = (
            find_user(options["representative"], option="--representative").pk if options["representative"] else None
        )
        digests = self._digests(day, user_id)
        heading = f"Follow-ups for {day:%A %d %B %Y} (TIME_ZONE {settings.TIME_ZONE}), overdue ones included"
        self.stdout.write(heading)
        if not digests:
            self.stdout.write("Nothing to follow up.")
            return
        for digest in digests:
            self.stdout.write(f"\n{digest.title}: {digest.counts}\n{table(HEADERS, digest.rows, indent='  ')}")
        leads = sum(digest.leads for digest in digests)
        communications = sum(digest.communications for digest in digests)
        overdue = sum(digest.overdue for digest in digests)
        self.stdout.write(
            f"\nTotal: {leads} lead follow-up(s) and {communications} communication follow-up(s), {overdue} overdue."
        )
        if options["email"]:
            self._send(digests, day)

    def _digests(self, day: dt.date, user_id: int | None) -> list[Digest]:
        """Every follow-up of the day and the overdue ones, per person: two queries in all."""
        actor = system_actor()
        starts = start_of(day)
        by_user: dict[int | None, Digest] = {}

        def digest_of(user) -> Digest:
            key = user.pk if user is not None else None
            if key not in by_user:
                by_user[key] = Digest(user)
            return by_user[key]

        leads = lead_follow_ups_due_today(actor, include_overdue=True, assigned_to_id=user_id, day=day)
        for lead in leads:
            digest = digest_of(lead.assigned_to)
            digest.leads += 1
            digest.overdue += lead.next_follow_up_date < starts
            digest.rows.append(_lead_row(lead, starts))
        follow_ups = pending_follow_ups(actor, due_on_or_before=day, representative_id=user_id).select_related(
            "lead", "opportunity"
        )
        for communication in follow_ups:
            digest = digest_of(communication.our_representative)
            digest.communications += 1
            digest.overdue += communication.follow_up_date < starts
            digest.rows.append(_communication_row(communication, starts))
        for digest in by_user.values():
            digest.rows.sort(key=lambda row: row[0])
        # People by name, the unassigned last.
        return sorted(by_user.values(), key=lambda d: (d.user is None, display_name(d.user).lower()))

    def _send(self, digests: list[Digest], day: dt.date) -> None:
        """One email per representative; who could not be emailed is reported, not crashed on."""
        connection = get_connection()
        try:
            connection.open()  # One session for every message.
        except (smtplib.SMTPException, OSError) as exc:
            raise CommandError(
                f"Cannot reach the mail server ({settings.EMAIL_HOST}:{settings.EMAIL_PORT}): {exc}"
            ) from None
        sent, unsent, failed = 0, [], []
        try:
            for digest in digests:
                user = digest.user
                if user is None:
                    unsent.append(f"Unassigned ({digest.counts}): nobody to email")
                elif not user.is_active:
                    unsent.append(f"{display_name(user)}: deactivated")
                elif not user.email:
                    unsent.append(f"{display_name(user)}: no email address")
                else:
                    try:
                        _message(digest, day, connection).send()
                    except (smtplib.SMTPException, OSError) as exc:
                        failed.append(f"{display_name(user)}: {exc}")
                    else:
                        sent += 1
        finally:
            connection.close()
        self.stdout.write(self.style.SUCCESS(f"\nEmailed {sent} digest(s)."))
        for line in unsent:
            self.stdout.write(self.style.WARNING(f"Not emailed: {line}."))
        for line in failed:
            self.stderr.write(f"Sending failed: {line}")
        if failed:
            raise CommandError(f"{len(failed)} digest(s) could not be sent (see above).")


def _lead_row(lead: Lead, starts) -> tuple:
    contact = " · ".join(part for part in (lead.contact_person, lead.phone or lead.email) if part)
    state = OVERDUE if lead.next_follow_up_date < starts else ""
    return (lead.next_follow_up_date, state, "Lead follow-up", lead.lead_number, lead.company_name, contact)


def _communication_row(communication: Communication, starts) -> tuple:
    about = communication.customer or communication.lead
    company = about.company_name if about is not None else ""
    if communication.opportunity_id:
        reference = communication.opportunity.opportunity_number
    elif communication.lead_id:
        reference = communication.lead.lead_number
    else:
        reference = communication.customer.customer_code
    state = OVERDUE if communication.follow_up_date < starts else ""
    what = f"{communication.get_type_display()}: {communication.subject}"
    return (communication.follow_up_date, state, what, reference, company, communication.contact_person)


def _message(digest: Digest, day: dt.date, connection) -> EmailMessage:
    overdue = f", {digest.overdue} overdue" if digest.overdue else ""
    body = (
        f"Hello {digest.user.get_full_name() or digest.user.get_username()},\n\n"
        f"your follow-ups for {day:%A %d %B %Y}: {digest.counts}.\n\n"
        f"{table(HEADERS, digest.rows)}\n\n"
        "Overdue ones were due before that day.\n-- \nThe CRM (manage.py followups_digest)\n"
    )
    return EmailMessage(
        subject=f"Your follow-ups for {day:%d %b %Y}: {len(digest.rows)} to do{overdue}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.user.email],
        connection=connection,
    )
