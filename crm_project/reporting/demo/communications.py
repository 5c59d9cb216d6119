"""
Demo communications for ``seed_demo``, logged through the communication service, each as of
its own date: calls, emails, meetings and visits. ``log`` is how every demo module records a
conversation as it happens in a record's story (a lead's first call, the quotation sent when an
opportunity reaches proposal); ``seed`` then tops up the account work with the demo customers
(reviews, order confirmations, quality issues) over the past months. Some carry a follow-up:
done when it fell due, mostly; some overdue, some due today, some later.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from communications.models import Communication, CommunicationDirection, CommunicationType
from communications.services import communication_complete_follow_up, communication_log
from crm_project.core.dates import start_of
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext, as_of
from customers.models import Customer
from leads.models import Lead
from opportunities.models import Opportunity

# (type, weight, subjects, duration range in minutes or None)
KINDS = [
    (
        CommunicationType.PHONE,
        30,
        ["Follow-up on bulk order inquiry", "Pricing questions", "Delivery schedule"],
        (5, 40),
    ),
    (CommunicationType.EMAIL, 30, ["Quotation sent", "Catalogue request", "Order confirmation"], None),
    (CommunicationType.MEETING, 12, ["Winter collection review", "Contract negotiation"], (30, 120)),
    (CommunicationType.VISIT, 8, ["Factory visit", "Showroom walkthrough"], (60, 180)),
    (CommunicationType.VIDEO_CALL, 8, ["Sample review on video", "Quarterly business review"], (15, 60)),
    (CommunicationType.CHAT, 5, ["Quick stock check"], None),
    (CommunicationType.SMS, 4, ["Delivery reminder"], None),
    (CommunicationType.OTHER, 3, ["Trade fair meeting"], None),
]
DURATIONS = {kind: durations for kind, _weight, _subjects, durations in KINDS}
CONTENTS = [
    "Discussed winter collection requirements; customer interested in 500 units, needs a detailed quotation.",
    "Shared fabric swatches and the price list; waiting for feedback from their purchasing team.",
    "Confirmed delivery dates for the next shipment and agreed on Net 45 payment terms.",
    "Customer raised a quality concern about the last batch; promised a replacement plan.",
    "Walked through the corporate uniform range; they want embroidery options.",
]
# The account work with a customer reaches this far back (or to the customer's creation);
# a quarter of it is recent (this month's engagement, follow-ups due now).
HISTORY_DAYS = 240
RECENT_DAYS = 21
RECENT_SHARE = 0.25
# Share of communications that ask for a follow-up, and of those that fell due that were done.
FOLLOW_UP_SHARE = 0.35
DONE_WHEN_DUE_SHARE = 0.6


def _demo_communications():
    domain = f"@{DEMO_EMAIL_DOMAIN}"
    return Communication.objects.filter(Q(customer__email__endswith=domain) | Q(lead__email__endswith=domain))


def _about(record) -> tuple[dict, object, str]:
    """The link to ``record``, who works it, and whom we talk to there."""
    if isinstance(record, Opportunity):
        return {"opportunity": record}, record.owner, record.customer.contact_person
    if isinstance(record, Lead):
        return {"lead": record}, record.assigned_to, record.contact_person
    return {"customer": record}, record.account_manager, record.contact_person


def _follow_up_due(ctx: DemoContext, date: dt.datetime) -> dt.datetime:
    """
    One to three weeks after ``date``; a third of those asked for in the last three weeks fall
    due today, so the dashboard has something due (besides what is overdue or later).
    """
    today = timezone.localdate(ctx.now)
    if timezone.localdate(date) > today - dt.timedelta(days=RECENT_DAYS) and ctx.rng.random() < 1 / 3:
        return max(start_of(today) + dt.timedelta(hours=ctx.rng.randint(10, 17)), date + dt.timedelta(hours=1))
    return date + dt.timedelta(days=ctx.rng.randint(1, 21))


def log(
    ctx: DemoContext,
    record,
    at: dt.datetime,
    *,
    kind: CommunicationType | None = None,
    subject: str | None = None,
    direction: CommunicationDirection | None = None,
    follow_up: bool | None = None,
) -> Communication:
    """
    Log a communication about ``record`` (a customer, lead or opportunity) dated ``at``, as of
    ``at``, by whoever works the record (the manager when nobody does). Without ``kind`` and
    ``subject`` a plausible one is drawn; ``follow_up`` None means "sometimes". A follow-up
    that fell due before today was mostly completed, a few hours to days after its date; one
    due today is still on today's list.
    """
    data, representative, contact = _about(record)
    # The representative logs it themselves: a rep may name only themselves.
    representative = representative or ctx.manager
    if kind is None:
        kind, _weight, subjects, _durations = ctx.rng.choices(KINDS, [weight for _k, weight, _s, _d in KINDS])[0]
        subject = subject or ctx.rng.choice(subjects)
    durations = DURATIONS[kind]
    data.update(
        type=kind,
        direction=direction or ctx.rng.choices(CommunicationDirection.values, [35, 65])[0],
        subject=subject or kind.label,
        content=ctx.rng.choice(CONTENTS),
        contact_person=contact,
        communication_date=at,
        duration_minutes=ctx.rng.randint(*durations) if durations else None,
        attachments=[{"name": "quotation.pdf", "size_kb": ctx.rng.randint(80, 900)}]
        if kind == CommunicationType.EMAIL and ctx.rng.random() < 0.4
        else [],
    )
    if follow_up if follow_up is not None else ctx.rng.random() < FOLLOW_UP_SHARE:
        data.update(requires_follow_up=True, follow_up_date=_follow_up_due(ctx, at))
    with as_of(at):
        communication = communication_log(actor=representative, data=data)
    ctx.communications_logged += 1

    due = communication.follow_up_date
    fell_due = due is not None and timezone.localdate(due) < timezone.localdate(ctx.now)
    if fell_due and ctx.rng.random() < DONE_WHEN_DUE_SHARE:
        done = min(due + dt.timedelta(hours=ctx.rng.randint(1, 72)), ctx.now)
        with as_of(done):
            communication_complete_follow_up(actor=representative, communication=communication)
    return communication


def _account_communications():
    """The demo's communications with customers about no lead or opportunity (what ``seed`` adds)."""
    return Communication.objects.filter(
        customer__email__endswith=f"@{DEMO_EMAIL_DOMAIN}", lead__isnull=True, opportunity__isnull=True
    )


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(150)
    existing = _account_communications().count()
    customers = list(Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").select_related("account_manager"))
    if customers:
        # Dated within the past months, after the customer existed, and logged in date order,
        # as they happened.
        planned = []
        for _ in range(existing, wanted):
            customer = ctx.rng.choice(customers)
            earliest = max(customer.created_at, ctx.now - dt.timedelta(days=HISTORY_DAYS))
            span = max(0, (timezone.localdate(ctx.now) - timezone.localdate(earliest)).days - 1)
            days = ctx.rng.randint(0, min(span, RECENT_DAYS) if ctx.rng.random() < RECENT_SHARE else span)
            planned.append((max(ctx.days_ago(days), earliest), customer))
        planned.sort(key=lambda item: item[0])
        for at, customer in ctx.progress(planned, "communications"):
            log(ctx, customer, at)
    return f"{_demo_communications().count()} demo communications ({ctx.communications_logged} new)"
