"""
Demo leads for ``seed_demo``, created and moved along the pipeline through the lead services:
every status and every source, some assigned to each rep, some to the manager, some
unassigned; open leads with follow-ups due today, overdue or later; converted leads linked to
existing demo customers or converted into new ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from crm_project.core.dates import start_of
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext
from customers.models import Customer
from leads import services
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus

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


def _follow_up(ctx: DemoContext, index: int) -> dt.datetime:
    """Today (in TIME_ZONE), overdue by a few days, or later: a third of the open leads each."""
    today = start_of(timezone.localdate())
    kind = index % 3
    if kind == 0:
        return today + dt.timedelta(hours=ctx.rng.randint(9, 17))
    if kind == 1:
        return today - dt.timedelta(days=ctx.rng.randint(1, 10)) + dt.timedelta(hours=10)
    return today + dt.timedelta(days=ctx.rng.randint(1, 14), hours=11)


def _seed_one(ctx: DemoContext, index: int, customers: list[Customer]) -> None:
    assignees = [*ctx.reps, None, ctx.manager]
    assignee = assignees[index % len(assignees)]
    actor = assignee or ctx.manager
    contact, title = ctx.rng.choice(CONTACTS)
    city, state = ctx.rng.choice(CITIES)
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
            "next_follow_up_date": _follow_up(ctx, index),
        },
    )

    target = STATUS_PLAN[index % len(STATUS_PLAN)]
    if target in (LeadStatus.CONTACTED, LeadStatus.LOST):
        lead = services.lead_mark_contacted(actor=actor, lead=lead)
    if target in (LeadStatus.QUALIFIED, LeadStatus.CONVERTED):
        lead = services.lead_qualify(
            actor=actor,
            lead=lead,
            qualification_score=ctx.rng.randint(60, 95),
            notes=ctx.rng.choice(["Budget confirmed", "Strong prospect", "Decision maker engaged"]),
        )
    if target == LeadStatus.CONVERTED:
        # Every other conversion goes to an existing customer; the rest create one from the lead.
        customer = ctx.rng.choice(customers) if customers and index % 2 == 0 else None
        services.lead_convert(actor=actor, lead=lead, customer=customer, notes="First order placed")
    elif target == LeadStatus.LOST:
        services.lead_mark_lost(actor=actor, lead=lead, notes="Chose a competitor on price")


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(60)
    existing = Lead.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count()
    customers = list(Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").order_by("customer_code")[:50])
    for index in ctx.progress(range(existing, wanted), "leads"):
        _seed_one(ctx, index, customers)
    return f"{max(wanted, existing)} demo leads ({max(0, wanted - existing)} new)"
