"""
Demo communications for ``seed_demo``, logged through the communication service: calls,
emails, meetings and visits about the demo customers, leads and opportunities, some with a
follow-up still pending, some overdue, some completed.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from communications.models import Communication, CommunicationDirection, CommunicationType
from communications.services import communication_complete_follow_up, communication_log
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext
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
CONTENTS = [
    "Discussed winter collection requirements; customer interested in 500 units, needs a detailed quotation.",
    "Shared fabric swatches and the price list; waiting for feedback from their purchasing team.",
    "Confirmed delivery dates for the next shipment and agreed on Net 45 payment terms.",
    "Customer raised a quality concern about the last batch; promised a replacement plan.",
    "Walked through the corporate uniform range; they want embroidery options.",
]
HISTORY_DAYS = 120


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


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(150)
    existing = _demo_communications().count()
    domain = f"@{DEMO_EMAIL_DOMAIN}"
    pools = [
        (pool, weight)
        for pool, weight in (
            (list(Customer.objects.filter(email__endswith=domain).select_related("account_manager")), 5),
            (list(Lead.objects.filter(email__endswith=domain).select_related("assigned_to")), 3),
            (list(Opportunity.objects.filter(customer__email__endswith=domain).select_related("owner", "customer")), 2),
        )
        if pool
    ]
    if not pools:
        return ""
    now = timezone.now()
    types, weights = [kind[0] for kind in KINDS], [kind[1] for kind in KINDS]
    details = {kind[0]: kind for kind in KINDS}

    for _ in ctx.progress(range(existing, wanted), "communications"):
        pool = ctx.rng.choices([pool for pool, _weight in pools], [weight for _pool, weight in pools])[0]
        data, representative, contact = _about(ctx.rng.choice(pool))
        # The representative logs it themselves: a rep may name only themselves.
        representative = representative or ctx.rng.choice(ctx.staff)

        kind = ctx.rng.choices(types, weights)[0]
        _type, _weight, subjects, durations = details[kind]
        date = now - dt.timedelta(days=ctx.rng.uniform(0, HISTORY_DAYS))
        data.update(
            type=kind,
            direction=ctx.rng.choices(CommunicationDirection.values, [35, 65])[0],
            subject=ctx.rng.choice(subjects),
            content=ctx.rng.choice(CONTENTS),
            contact_person=contact,
            communication_date=date,
            duration_minutes=ctx.rng.randint(*durations) if durations else None,
            attachments=[{"name": "quotation.pdf", "size_kb": ctx.rng.randint(80, 900)}]
            if kind == CommunicationType.EMAIL and ctx.rng.random() < 0.4
            else [],
        )
        if ctx.rng.random() < 0.35:
            data.update(requires_follow_up=True, follow_up_date=date + dt.timedelta(days=ctx.rng.randint(1, 21)))
        communication = communication_log(actor=representative, data=data)
        # Most follow-ups that fell due were done; the rest show as overdue.
        if communication.requires_follow_up and communication.follow_up_date < now and ctx.rng.random() < 0.6:
            communication_complete_follow_up(actor=representative, communication=communication)

    return f"{max(wanted, existing)} demo communications ({max(0, wanted - existing)} new)"
