"""
Demo leads for ``seed_demo``, each with a history told through the lead and communication
services, every step as of its own day: created over the past months, called a few days
later (the first communication makes a lead contacted), qualified after a meeting, converted
weeks after creation, or lost. Every status and every source, some assigned to each rep, some
to the manager, some unassigned; open leads have their next follow-up (set at their last
contact) due today, overdue or later; converted leads are linked to existing demo customers or
converted into new ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from communications.models import CommunicationDirection, CommunicationType
from crm_project.core.dates import start_of
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext, as_of
from crm_project.reporting.demo import communications as communications_demo
from customers.models import Customer
from leads import services
from leads.models import OPEN_STATUSES, Lead, LeadPriority, LeadSource, LeadStatus

# Where the n-th demo lead ends up; cycled, so every status appears at any size.
STATUS_PLAN = [
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.QUALIFIED,
    LeadStatus.NEW,
    LeadStatus.CONVERTED,
    LeadStatus.CONTACTED,
    LeadStatus.LOST,
    LeadStatus.QUALIFIED,
    LeadStatus.CONVERTED,
]
COMPANIES = [
    "Tech Solutions",
    "Harbor Hotels",
    "Greenfield Schools",
    "City Care Hospitals",
    "Apex Logistics",
    "Lotus Retail",
    "Summit Security Services",
    "Spice Route Restaurants",
    "Nova Airlines",
    "Orbit Fitness Clubs",
]
CONTACTS = [
    ("John Doe", "Purchasing Manager"),
    ("Anita Rao", "Procurement Head"),
    ("Vikram Singh", "HR Director"),
    ("Sara Thomas", "Operations Manager"),
    ("Imran Qureshi", "Admin Manager"),
    ("Meena Iyer", "Founder"),
]
CITIES = [
    ("Mumbai", "Maharashtra"),
    ("Bengaluru", "Karnataka"),
    ("Chennai", "Tamil Nadu"),
    ("Delhi", "Delhi"),
    ("Hyderabad", "Telangana"),
    ("Pune", "Maharashtra"),
]
REQUIREMENTS = [
    "Looking for bulk garments for corporate uniforms",
    "Winter jackets for 300 staff",
    "School uniforms for the new academic year",
    "Scrubs and lab coats, quarterly orders",
    "Branded T-shirts for a product launch",
]


@dataclass(frozen=True)
class _Plan:
    """Days before today of a lead's steps, oldest first; None for a step it never takes."""

    created: int
    contacted: int | None = None
    qualified: int | None = None
    closed: int | None = None  # converted or lost


def _follow_up(ctx: DemoContext, index: int) -> dt.datetime:
    """Today (in TIME_ZONE), overdue by a few days, or later: a third of the open leads each."""
    today = start_of(timezone.localdate(ctx.now))
    kind = index % 3
    if kind == 0:
        return today + dt.timedelta(hours=ctx.rng.randint(9, 17))
    if kind == 1:
        return today - dt.timedelta(days=ctx.rng.randint(1, 10)) + dt.timedelta(hours=10)
    return today + dt.timedelta(days=ctx.rng.randint(1, 14), hours=11)


def _plan(ctx: DemoContext, target: str, index: int, follow_up: dt.datetime | None) -> _Plan:
    """
    When each step happens. A closed lead's story ends up to half a year ago: converted 9 to
    53 days after it came in, lost within two months. An open lead's last step is when its
    next follow-up was set, a day to three weeks before it falls due (and never today).
    """
    days = ctx.rng.randint
    if target == LeadStatus.CONVERTED:
        converted = days(1, 180)
        qualified = converted + days(5, 30)
        contacted = qualified + days(3, 18)
        return _Plan(created=contacted + days(1, 5), contacted=contacted, qualified=qualified, closed=converted)
    if target == LeadStatus.LOST:
        lost = days(1, 200)
        # Every other lost lead was qualified first (it keeps its qualification as history).
        qualified = lost + days(5, 25) if index % 2 else None
        contacted = (qualified or lost) + days(3, 20)
        return _Plan(created=contacted + days(1, 5), contacted=contacted, qualified=qualified, closed=lost)

    due_in = (timezone.localdate(follow_up) - timezone.localdate(ctx.now)).days
    last = max(1, days(1, 21) - due_in)
    if target == LeadStatus.NEW:
        return _Plan(created=last)
    if target == LeadStatus.CONTACTED:
        return _Plan(created=last + days(1, 4), contacted=last)
    contacted = last + days(4, 20)
    return _Plan(created=contacted + days(1, 4), contacted=contacted, qualified=last)


def _seed_one(ctx: DemoContext, index: int, customers: list[Customer]) -> None:
    assignees = [*ctx.reps, None, ctx.manager]
    assignee = assignees[index % len(assignees)]
    actor = assignee or ctx.manager
    contact, title = ctx.rng.choice(CONTACTS)
    city, state = ctx.rng.choice(CITIES)
    target = STATUS_PLAN[index % len(STATUS_PLAN)]
    follow_up = _follow_up(ctx, index) if target in OPEN_STATUSES else None
    plan = _plan(ctx, target, index, follow_up)

    with as_of(ctx.days_ago(plan.created)):
        lead = services.lead_create(
            actor=actor,
            data={
                "company_name": f"{ctx.rng.choice(COMPANIES)} {index + 1}",
                "industry": ctx.rng.choice(["Technology", "Hospitality", "Education", "Healthcare", "Retail"]),
                "company_size": ctx.rng.choice(["10-50", "50-100", "100-500", "500+"]),
                "website": f"https://lead{index + 1}.{DEMO_EMAIL_DOMAIN}",
                "contact_person": contact,
                "title_position": title,
                "email": f"lead{index + 1}@{DEMO_EMAIL_DOMAIN}",
                "phone": f"+91 99{ctx.rng.randint(10000000, 99999999)}",
                "city": city,
                "state": state,
                "country": "India",
                "source": LeadSource.values[index % len(LeadSource.values)],
                "priority": ctx.rng.choice(LeadPriority.values),
                "estimated_deal_value": Decimal(ctx.rng.randrange(10_000, 500_000, 1_000)),
                "requirements": ctx.rng.choice(REQUIREMENTS),
                "assigned_to": assignee,
                # A new lead's first call is planned when it comes in.
                "next_follow_up_date": follow_up if target == LeadStatus.NEW else None,
            },
        )
    if plan.contacted is None:
        return

    # The first call: logging it makes the lead contacted and dates its last contact.
    last_step = communications_demo.log(
        ctx,
        lead,
        ctx.days_ago(plan.contacted),
        kind=CommunicationType.PHONE,
        subject="Introductory call",
        direction=CommunicationDirection.OUTBOUND,
        follow_up=False,
    ).communication_date
    next_step = plan.qualified or plan.closed
    if next_step is not None and plan.contacted - next_step > 2 and ctx.rng.random() < 0.5:
        # The catalogue they asked for, sent between the call and the next step.
        last_step = communications_demo.log(
            ctx,
            lead,
            ctx.days_ago(ctx.rng.randint(next_step + 1, plan.contacted - 1)),
            kind=CommunicationType.EMAIL,
            subject="Catalogue sent",
            direction=CommunicationDirection.OUTBOUND,
            follow_up=False,
        ).communication_date
    if plan.qualified is not None:
        meeting = communications_demo.log(
            ctx,
            lead,
            ctx.days_ago(plan.qualified),
            kind=CommunicationType.MEETING,
            subject="Requirements meeting",
            direction=CommunicationDirection.OUTBOUND,
            follow_up=False,
        )
        last_step = ctx.shortly_after(meeting.communication_date)
        with as_of(last_step):
            lead = services.lead_qualify(
                actor=actor,
                lead=lead,
                qualification_score=ctx.rng.randint(60, 95),
                notes=ctx.rng.choice(["Budget confirmed", "Strong prospect", "Decision maker engaged"]),
            )

    if target == LeadStatus.CONVERTED:
        order = communications_demo.log(
            ctx,
            lead,
            ctx.days_ago(plan.closed),
            kind=CommunicationType.EMAIL,
            subject="Purchase order received",
            direction=CommunicationDirection.INBOUND,
            follow_up=False,
        )
        converted_at = ctx.shortly_after(order.communication_date)
        # Every other conversion goes to an existing customer (one that existed by then); the
        # rest create one from the lead.
        existing = [customer for customer in customers if customer.created_at < converted_at]
        customer = ctx.rng.choice(existing) if existing and index % 2 == 0 else None
        with as_of(converted_at):
            services.lead_convert(actor=actor, lead=lead, customer=customer, notes="First order placed")
    elif target == LeadStatus.LOST:
        with as_of(ctx.days_ago(plan.closed)):
            services.lead_mark_lost(actor=actor, lead=lead, notes="Chose a competitor on price")
    else:
        # After the last step, the rep plans the next contact.
        with as_of(ctx.shortly_after(last_step)):
            services.lead_update(actor=actor, lead=lead, data={"next_follow_up_date": follow_up})


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(60)
    existing = Lead.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count()
    customers = list(Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").order_by("customer_code")[:50])
    for index in ctx.progress(range(existing, wanted), "leads"):
        _seed_one(ctx, index, customers)
    return f"{max(wanted, existing)} demo leads ({max(0, wanted - existing)} new)"
