"""
Demo opportunities for ``seed_demo``: every stage, open and closed (won, and lost with a
reason), owned by each rep and the manager, sold to demo customers, some opened for the
customer a demo lead converted into. Each is created, moved along the pipeline stage by stage
and closed through the services, each step as of its own day, days to weeks after the one
before, with the conversation that went with it: so the stage history (time in each stage,
the cycle from creation to close) is as real as the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from communications.models import CommunicationDirection, CommunicationType
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext, as_of
from crm_project.reporting.demo import communications as communications_demo
from customers.models import Customer
from leads.models import Lead, LeadStatus
from leads.selectors import lead_list_visible_to
from opportunities.models import CLOSED_STAGES, OPEN_STAGES, Opportunity, OpportunityStage
from opportunities.services import opportunity_close, opportunity_create, opportunity_update

# The stage each demo opportunity ends in, in turn: every stage, weighted like a real funnel.
STAGE_PLAN = [
    OpportunityStage.PROSPECTING,
    OpportunityStage.QUALIFICATION,
    OpportunityStage.NEEDS_ANALYSIS,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATION,
    OpportunityStage.CLOSED_WON,
    OpportunityStage.CLOSED_LOST,
    OpportunityStage.PROSPECTING,
    OpportunityStage.PROPOSAL,
    OpportunityStage.CLOSED_WON,
]
STAGE_PROBABILITY = {
    OpportunityStage.PROSPECTING: 10,
    OpportunityStage.QUALIFICATION: 25,
    OpportunityStage.NEEDS_ANALYSIS: 40,
    OpportunityStage.PROPOSAL: 60,
    OpportunityStage.NEGOTIATION: 80,
}
DEALS = [
    "Winter Collection Order",
    "Corporate Uniforms Contract",
    "Summer Cotton Range",
    "School Uniforms Tender",
    "Hotel Linen Refresh",
    "Hospital Scrubs Supply",
    "Festive Season Stock",
    "Workwear Annual Supply",
]
CATEGORIES = ["Jackets", "Sweaters", "Shirts", "Trousers", "Uniforms", "Scrubs", "Linen", "Knitwear"]
# Days an opportunity spends in each open stage before it moves on (or closes).
DWELL_DAYS = {
    OpportunityStage.PROSPECTING: (2, 10),
    OpportunityStage.QUALIFICATION: (4, 15),
    OpportunityStage.NEEDS_ANALYSIS: (5, 20),
    OpportunityStage.PROPOSAL: (5, 25),
    OpportunityStage.NEGOTIATION: (3, 20),
}
# What was said when it entered a stage: (type, subject, direction).
CONVERSATIONS = {
    OpportunityStage.PROSPECTING: (CommunicationType.PHONE, "Introductory call", CommunicationDirection.OUTBOUND),
    OpportunityStage.QUALIFICATION: (CommunicationType.PHONE, "Requirements call", CommunicationDirection.OUTBOUND),
    OpportunityStage.NEEDS_ANALYSIS: (CommunicationType.MEETING, "Sample review", CommunicationDirection.OUTBOUND),
    OpportunityStage.PROPOSAL: (CommunicationType.EMAIL, "Quotation sent", CommunicationDirection.OUTBOUND),
    OpportunityStage.NEGOTIATION: (CommunicationType.MEETING, "Contract negotiation", CommunicationDirection.OUTBOUND),
    OpportunityStage.CLOSED_WON: (CommunicationType.EMAIL, "Purchase order received", CommunicationDirection.INBOUND),
    OpportunityStage.CLOSED_LOST: (CommunicationType.PHONE, "Lost deal debrief", CommunicationDirection.OUTBOUND),
}
# Share of the steps that leave a communication about the opportunity.
TALKED_SHARE = 0.7
LOSS_REASONS = [
    "Competitor had lower pricing",
    "Budget cut for this year",
    "Delivery timeline too long",
    "Chose a local supplier",
    "Fabric samples did not meet requirements",
]


def _path(ctx: DemoContext, final_stage: str) -> list[str]:
    """The stages entered, in order: the open ones up to the last, then the close if any."""
    last_open = final_stage if final_stage in OPEN_STAGES else ctx.rng.choice(OPEN_STAGES[2:])
    path = list(OPEN_STAGES[: OPEN_STAGES.index(last_open) + 1])
    return path if final_stage in OPEN_STAGES else [*path, final_stage]


def _gaps(ctx: DemoContext, path: list[str]) -> list[int]:
    """Days between entering each stage of ``path`` and the next (one fewer than the stages)."""
    return [ctx.rng.randint(*DWELL_DAYS[stage]) for stage in path[:-1]]


def _converted_leads(owner, demo_email: str) -> list[Lead]:
    """The owner's demo leads converted and not yet the origin of an opportunity, oldest conversion first."""
    return list(
        lead_list_visible_to(owner)
        .filter(email__endswith=demo_email, status=LeadStatus.CONVERTED, opportunities__isnull=True)
        .select_related("converted_customer")
        .order_by("converted_at")
    )


def _days_before_today(ctx: DemoContext, moment) -> int:
    return (timezone.localdate(ctx.now) - timezone.localdate(moment)).days


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(60)
    demo_email = f"@{DEMO_EMAIL_DOMAIN}"
    existing = Opportunity.objects.filter(customer__email__endswith=demo_email).count()
    customers = list(Customer.objects.filter(email__endswith=demo_email).order_by("customer_code"))
    if not customers:
        return "0 demo opportunities (no demo customers to sell to)"
    # Each owner may only link a lead they can see.
    leads_of = {user.pk: _converted_leads(user, demo_email) for user in ctx.staff}
    taken: set = set()

    for index in ctx.progress(range(existing, wanted), "opportunities"):
        owner = ctx.staff[index % len(ctx.staff)]
        final_stage = STAGE_PLAN[index % len(STAGE_PLAN)]
        path = _path(ctx, final_stage)
        gaps = _gaps(ctx, path)
        span = sum(gaps)

        # A third start from a lead, a day to a week after it converted, when one converted
        # early enough for the whole story to have happened by yesterday.
        lead = None
        if index % 3 == 0:
            fitting = [
                candidate
                for candidate in leads_of[owner.pk]
                if candidate.pk not in taken and _days_before_today(ctx, candidate.converted_at) > span + 7
            ]
            lead = ctx.rng.choice(fitting) if fitting else None
        if lead is not None:
            taken.add(lead.pk)
            customer = lead.converted_customer
            created = _days_before_today(ctx, lead.converted_at) - ctx.rng.randint(1, 7)
        else:
            # The story ends with the close up to four months ago, or with the latest move
            # up to three weeks ago for one still open; it started ``span`` days before.
            created = span + ctx.rng.randint(1, 120 if final_stage in CLOSED_STAGES else 21)
            # Sold to a customer that existed by then (falls back to any, for customers
            # created by an older demo that did not date them).
            since = [c for c in customers if _days_before_today(ctx, c.created_at) > created] or customers
            customer = ctx.rng.choice(since)
        days = [created]
        for gap in gaps:
            days.append(days[-1] - gap)
        # When it entered each stage of its path.
        moments = [ctx.days_ago(day) for day in days]

        quantity = ctx.rng.randrange(100, 5_000, 50)
        created_at = moments[0]
        closes_at = moments[-1] if final_stage in CLOSED_STAGES else None
        with as_of(created_at):
            opportunity = opportunity_create(
                actor=owner,
                data={
                    "name": f"{ctx.rng.choice(DEALS)} {created_at.year} #{index + 1}",
                    "description": f"Bulk order of about {quantity} units.",
                    "customer": customer,
                    "lead": lead,
                    "estimated_value": Decimal(ctx.rng.randrange(20_000, 750_000, 500)),
                    "probability": STAGE_PROBABILITY[OpportunityStage.PROSPECTING],
                    # What the owner expected when it opened: for a deal still open, a date ahead.
                    "expected_close_date": (
                        closes_at + dt.timedelta(days=ctx.rng.randint(-10, 20))
                        if closes_at is not None
                        else ctx.now + dt.timedelta(days=ctx.rng.randint(7, 150))
                    ),
                    "products_interested": {"categories": ctx.rng.sample(CATEGORIES, 2), "quantity": quantity},
                },
            )
        _talk(ctx, opportunity, path[0], created_at, last=len(path) == 1)

        # Along the open stages (each move a history row), days to weeks apart.
        for step, (stage, at) in enumerate(zip(path[1:], moments[1:], strict=True), start=2):
            if stage in CLOSED_STAGES:
                lost = stage == OpportunityStage.CLOSED_LOST
                with as_of(at):
                    # No actual_close_date: it is the moment of the close, as for a close today.
                    opportunity = opportunity_close(
                        actor=owner,
                        opportunity=opportunity,
                        stage=stage,
                        loss_reason=ctx.rng.choice(LOSS_REASONS) if lost else "",
                        notes="Customer chose another supplier." if lost else "Deal closed - PO received.",
                    )
            else:
                with as_of(at):
                    opportunity = opportunity_update(
                        actor=owner,
                        opportunity=opportunity,
                        data={
                            "stage": stage,
                            "probability": STAGE_PROBABILITY[stage],
                            "next_step": ctx.rng.choice(
                                ["Send samples", "Share quotation", "Call the buyer", "Site visit"]
                            ),
                            "next_step_date": at + dt.timedelta(days=ctx.rng.randint(2, 14)),
                        },
                    )
            _talk(ctx, opportunity, stage, at, last=step == len(path))
    return f"{max(wanted, existing)} demo opportunities ({max(0, wanted - existing)} new)"


def _talk(ctx: DemoContext, opportunity: Opportunity, stage: str, at, *, last: bool) -> None:
    """
    Most steps come with a conversation, logged shortly after it; the latest one of a deal
    still open always, with a follow-up (the owner's next thing to do about it).
    """
    open_and_latest = last and not opportunity.is_closed
    if open_and_latest or ctx.rng.random() < TALKED_SHARE:
        kind, subject, direction = CONVERSATIONS[stage]
        communications_demo.log(
            ctx,
            opportunity,
            ctx.shortly_after(at),
            kind=kind,
            subject=subject,
            direction=direction,
            follow_up=open_and_latest,
        )
