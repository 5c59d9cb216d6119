"""
Demo segments for ``seed_demo``, created and filled through the segment services: most are
filled by their criteria (apply-criteria), one by hand-picked customers (bulk assign).
Segments are found again by code, so a second run adds nothing.
"""

from __future__ import annotations

from crm_project.core.text import plural
from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext
from customers.models import Customer
from segments.models import Segment
from segments.services import segment_apply_criteria, segment_assign_customers, segment_create

SEGMENTS = [
    {
        "code": "HVC",
        "name": "High Value Customers",
        "description": "Customers with annual spend of 500K and more, ordering often, paying reliably.",
        "priority": 1,
        "criteria": {
            "min_annual_spend": 500000,
            "order_frequency": ["weekly", "monthly"],
            "credit_rating": ["excellent", "good"],
        },
        "benefits": {"discount_tier": "Platinum", "payment_terms": "Net 60", "dedicated_account_manager": True},
    },
    {
        "code": "GROWTH",
        "name": "Growth Accounts",
        "description": "Mid-sized buyers (100K to 500K a year) worth developing.",
        "priority": 2,
        "criteria": {"min_annual_spend": 100000, "max_annual_spend": 499999.99},
        "benefits": {"discount_tier": "Gold", "payment_terms": "Net 45", "quarterly_business_review": True},
    },
    {
        "code": "MH-METRO",
        "name": "Maharashtra Metros",
        "description": "Customers in Mumbai and Pune, served by the western warehouse.",
        "priority": 3,
        "criteria": {"city": ["Mumbai", "Pune"], "country": "India"},
        "benefits": {"free_delivery": True, "delivery_days": 2},
    },
    {
        "code": "CREDIT-WATCH",
        "name": "Credit Watch",
        "description": "Fair or poor credit: advance payment, tighter limits.",
        "priority": 4,
        "criteria": {"credit_rating": ["fair", "poor"], "payment_review": "monthly"},
        "benefits": {"payment_terms": "Advance"},
    },
    {
        "code": "UNIFORMS",
        "name": "Corporate Uniform Buyers",
        "description": "Campaign target for the winter uniform collection.",
        "priority": 5,
        "criteria": {"industry": ["Corporate uniforms", "Hospitality", "Healthcare"]},
        "benefits": {"catalogue": "Winter uniforms", "sample_kit": True},
    },
]
# Hand-picked, no criteria: filled with the bulk assign service.
KEY_ACCOUNTS = {
    "code": "KEY",
    "name": "Key Accounts",
    "description": "Accounts the sales manager follows personally.",
    "priority": 0,
    "benefits": {"executive_sponsor": True},
}
KEY_ACCOUNTS_SIZE = 6


def seed(ctx: DemoContext) -> str:
    existing = set(
        Segment.objects.filter(code__in=[s["code"] for s in [*SEGMENTS, KEY_ACCOUNTS]]).values_list("code", flat=True)
    )
    created = assigned = 0
    for spec in ctx.progress(SEGMENTS, "segments"):
        if spec["code"] in existing:
            segment = Segment.objects.get(code=spec["code"])
        else:
            segment = segment_create(actor=ctx.manager, data=spec)
            created += 1
        # Idempotent: customers already in the segment are counted, not added again.
        assigned += segment_apply_criteria(actor=ctx.manager, segment=segment).assigned
    if KEY_ACCOUNTS["code"] not in existing:
        segment = segment_create(actor=ctx.manager, data=KEY_ACCOUNTS)
        created += 1
        demo_customers = list(
            Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
            .order_by("customer_code")
            .values_list("pk", flat=True)
        )
        picked = ctx.rng.sample(demo_customers, min(KEY_ACCOUNTS_SIZE, len(demo_customers)))
        assigned += segment_assign_customers(actor=ctx.manager, segment=segment, customer_ids=picked).assigned
    total = len(SEGMENTS) + 1
    return f"{plural(total, 'demo segment')} ({created:,} new), {plural(assigned, 'customer')} newly assigned"
