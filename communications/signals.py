"""Receivers that keep communications' copies of other records' links true; connected in ``apps.py``."""

from __future__ import annotations

from opportunities.models import Opportunity
from opportunities.signals import opportunity_relinked

from .services import communication_follow_opportunity


def follow_relinked_opportunity(
    sender, *, opportunity, previous_customer_id, previous_lead_id, actor, **kwargs
) -> None:
    communication_follow_opportunity(
        actor=actor,
        opportunity=opportunity,
        previous_customer_id=previous_customer_id,
        previous_lead_id=previous_lead_id,
    )


def connect() -> None:
    opportunity_relinked.connect(
        follow_relinked_opportunity, sender=Opportunity, dispatch_uid="communications.follow_relinked_opportunity"
    )
