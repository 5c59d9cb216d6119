"""What the API tests share: paths, shapes, and the API guide's own segment example."""

from __future__ import annotations

LIST_URL = "/api/v1/crm/segments"
SEGMENT_FIELDS = {
    "id",
    "name",
    "description",
    "code",
    "criteria",
    "is_active",
    "priority",
    "benefits",
    "auto_refresh",
    "customer_count",
    "created_at",
    "updated_at",
}
PAGE_KEYS = {"count", "page", "page_size", "total_pages", "next", "previous", "results"}

# The API guide's "Create Segment" example, as written.
SEED_SEGMENT = {
    "name": "High Value Customers",
    "description": "Customers with annual spend > 500K",
    "code": "HVC",
    "criteria": {"min_annual_spend": 500000, "order_frequency": "monthly", "credit_rating": "excellent"},
    "is_active": True,
    "priority": 1,
    "benefits": {"discount_tier": "Platinum", "payment_terms": "Net 60", "dedicated_account_manager": True},
}


def url(segment, action: str = "") -> str:
    return f"{LIST_URL}/{segment.pk}" + (f"/{action}" if action else "")


def ids(customers) -> list[str]:
    return [str(customer.pk) for customer in customers]
