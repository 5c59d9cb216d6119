"""
The follow-up digest: each representative's follow-ups of a day (open leads due that day,
pending communication follow-ups due by its end, overdue ones marked), read through the
selectors behind the API's ``/leads/follow-ups/today`` and ``/communications/follow-ups/pending``,
and the e-mail that carries one. ``manage.py followups_digest`` prints them; the service
``follow_up_digest_send`` e-mails one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage

from communications.models import Communication
from communications.selectors import pending_follow_ups
from crm_project.core.commands import display_name, system_actor, table
from crm_project.core.dates import start_of
from crm_project.core.text import plural
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
        return f"{plural(self.leads, 'lead')}, {plural(self.communications, 'communication')}{overdue}"


def follow_up_digests(day: dt.date, *, user_id: int | None = None) -> list[Digest]:
    """
    Every follow-up of ``day`` and the overdue ones, per person (``user_id``: that user's only),
    people by name and the unassigned last: two queries in all.
    """
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


def digest_email(digest: Digest, day: dt.date, *, connection=None) -> EmailMessage:
    """The e-mail that tells ``digest.user`` their follow-ups of ``day``."""
    overdue = f", {digest.overdue} overdue" if digest.overdue else ""
    body = (
        f"Hello {digest.user.get_full_name() or digest.user.get_username()},\n\n"
        f"your follow-ups for {day:%A %d %B %Y}: {digest.counts}.\n\n"
        f"{table(HEADERS, digest.rows)}\n\n"
        "Overdue ones were due before that day.\n-- \nThe CRM\n"
    )
    return EmailMessage(
        subject=f"Your follow-ups for {day:%d %b %Y}: {len(digest.rows)} to do{overdue}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.user.email],
        connection=connection,
    )
