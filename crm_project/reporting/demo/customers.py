"""
Demo customers for ``seed_demo``, created through the customer service as of the day each
became one: the established accounts, nine to eighteen months ago, before any demo lead or
opportunity (customers converted from leads are created by the lead demo, when they convert).
"""

from __future__ import annotations

from decimal import Decimal

from crm_project.reporting.demo import DEMO_EMAIL_DOMAIN, DemoContext, as_of
from customers.models import CreditRating, Customer, OrderFrequency
from customers.services import customer_create

COMPANIES = [
    "Sunrise Apparel",
    "Blue Loom Traders",
    "Metro Uniforms",
    "Coastal Fashion House",
    "Northern Knitwear",
    "Royal Textiles",
    "Urban Threads",
    "Evergreen Retail",
    "Silk Route Stores",
    "Prime Workwear",
]
CITIES = [
    ("Mumbai", "Maharashtra"),
    ("Bengaluru", "Karnataka"),
    ("Chennai", "Tamil Nadu"),
    ("Delhi", "Delhi"),
    ("Ahmedabad", "Gujarat"),
    ("Kolkata", "West Bengal"),
    ("Pune", "Maharashtra"),
    ("Jaipur", "Rajasthan"),
]
# How long ago the established accounts became customers, in days.
AGE_DAYS = (270, 540)


def seed(ctx: DemoContext) -> str:
    wanted = ctx.count(40)
    existing = Customer.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count()
    # Oldest first, so customer codes follow the dates.
    ages = sorted((ctx.rng.randint(*AGE_DAYS) for _ in range(existing, wanted)), reverse=True)
    for index, age in ctx.progress(list(zip(range(existing, wanted), ages, strict=True)), "customers"):
        city, state = ctx.rng.choice(CITIES)
        name = f"{ctx.rng.choice(COMPANIES)} {index + 1}"
        data = {
            "company_name": name,
            "industry": ctx.rng.choice(["Retail", "Corporate uniforms", "Hospitality", "Healthcare", "Education"]),
            "contact_person": ctx.rng.choice(["Anil Kumar", "Priya Shah", "John Mathew", "Fatima Khan", "Li Wei"]),
            "email": f"purchasing{index + 1}@{DEMO_EMAIL_DOMAIN}",
            "phone": f"+91 98{ctx.rng.randint(10000000, 99999999)}",
            "city": city,
            "state": state,
            "country": "India",
            "credit_rating": ctx.rng.choice(CreditRating.values),
            "payment_terms": ctx.rng.choice(["Net 30", "Net 45", "Net 60", "Advance"]),
            "annual_spend": Decimal(ctx.rng.randrange(50_000, 2_000_000, 5_000)),
            "order_frequency": ctx.rng.choice(OrderFrequency.values),
            "account_manager": ctx.rng.choice(ctx.staff),
        }
        with as_of(ctx.days_ago(age)):
            customer_create(actor=ctx.manager, data=data)
    return f"{max(wanted, existing)} demo customers ({max(0, wanted - existing)} new)"
