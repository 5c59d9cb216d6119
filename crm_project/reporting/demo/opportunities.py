"""
Demo opportunities for ``seed_demo``: every stage, open and closed (won, and lost with a
reason), owned by each rep and the manager, sold to demo customers and some from demo leads.
Each is created, moved along the pipeline and closed through the services, so the stage
history is as real as the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext
from customers.models import Customer
from leads.selectors import lead_list_visible_to
from opportunities.models import OPEN_STAGES, Opportunity, OpportunityStage
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
LOSS_REASONS = [
    "Competitor had lower pricing",
    "Budget cut for this year",
    "Delivery timeline too long",
    "Chose a local supplier",
    "Fabric samples did not meet requirements",
]


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(60)
    demo_email = f"@{DEMO_EMAIL_DOMAIN}"
    existing = Opportunity.objects.filter(customer__email__endswith=demo_email).count()
    customers = list(Customer.objects.filter(email__endswith=demo_email).order_by("customer_code"))
    if not customers:
        return "0 demo opportunities (no demo customers to sell to)"
    # Each owner may only link a lead they can see.
    leads_of = {
        user.pk: list(lead_list_visible_to(user).filter(email__endswith=demo_email)[:100]) for user in ctx.staff
    }
    now = timezone.now()

    for index in ctx.progress(range(existing, wanted), "opportunities"):
        owner = ctx.staff[index % len(ctx.staff)]
        final_stage = STAGE_PLAN[index % len(STAGE_PLAN)]
        visible_leads = leads_of[owner.pk]
        quantity = ctx.rng.randrange(100, 5_000, 50)
        opportunity = opportunity_create(
            actor=owner,
            data={
                "name": f"{ctx.rng.choice(DEALS)} {now.year} #{index + 1}",
                "description": f"Bulk order of about {quantity} units.",
                "customer": ctx.rng.choice(customers),
                "lead": ctx.rng.choice(visible_leads) if visible_leads and index % 3 == 0 else None,
                "estimated_value": Decimal(ctx.rng.randrange(20_000, 750_000, 500)),
                "probability": STAGE_PROBABILITY[OpportunityStage.PROSPECTING],
                "expected_close_date": now + dt.timedelta(days=ctx.rng.randint(7, 150)),
                "products_interested": {"categories": ctx.rng.sample(CATEGORIES, 2), "quantity": quantity},
            },
        )
        # Walk along the open stages up to the planned one (each step is a history row).
        last_open = final_stage if final_stage in OPEN_STAGES else ctx.rng.choice(OPEN_STAGES[2:])
        for stage in OPEN_STAGES[1 : OPEN_STAGES.index(last_open) + 1]:
            opportunity = opportunity_update(
                actor=owner,
                opportunity=opportunity,
                data={
                    "stage": stage,
                    "probability": STAGE_PROBABILITY[stage],
                    "next_step": ctx.rng.choice(["Send samples", "Share quotation", "Call the buyer", "Site visit"]),
                    "next_step_date": now + dt.timedelta(days=ctx.rng.randint(1, 21)),
                },
            )
        if final_stage in (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST):
            lost = final_stage == OpportunityStage.CLOSED_LOST
            opportunity_close(
                actor=owner,
                opportunity=opportunity,
                stage=final_stage,
                actual_close_date=now - dt.timedelta(days=ctx.rng.randint(1, 120)),
                loss_reason=ctx.rng.choice(LOSS_REASONS) if lost else "",
                notes="Customer chose another supplier." if lost else "Deal closed - PO received.",
            )
    return f"{max(wanted, existing)} demo opportunities ({max(0, wanted - existing)} new)"
