"""
Webhook subscriptions and what managers do with them. Invariants guarded here:

- only managers create, change, delete, ping or redeliver (403 for anyone else);
- a subscription's URL passes the URL guard when saved (400 on ``url``), and again at each
  delivery; its events are known event types or "*" (400 on ``events``);
- its secret is generated when not given, shown once, never returned again;
- a redelivery sends the same event again (the same ``X-CRM-Delivery`` id), after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription
from crm_project.core.roles import is_manager
from crm_project.core.services import apply_changes, lock_for_update

from . import guard
from .delivery import dispatch
from .events import ALL_EVENTS, EVENT_TYPES, emit_to

EDITABLE_FIELDS = ("url", "events", "is_active", "description", "secret")


def _require_manager(actor, doing: str) -> None:
    if not is_manager(actor):
        raise PermissionDenied(f"Only sales managers can {doing}.")


def _check(data: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if "url" in data:
        try:
            guard.check(data["url"])
        except guard.BlockedURL as blocked:
            errors["url"] = str(blocked)
    if "events" in data:
        events = data["events"]
        unknown = [name for name in events if name != ALL_EVENTS and name not in EVENT_TYPES]
        if not events:
            errors["events"] = 'Name at least one event, or "*" for all.'
        elif unknown:
            errors["events"] = f'Unknown events: {", ".join(unknown)}. Known: {", ".join(EVENT_TYPES)}, or "*".'
    if errors:
        raise ValidationError(errors)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_create(*, actor, data: Mapping[str, Any]) -> WebhookSubscription:
    _require_manager(actor, "manage webhooks")
    _check(data)
    subscription = WebhookSubscription(created_by=actor if getattr(actor, "pk", None) else None)
    apply_changes(subscription, data, allowed=EDITABLE_FIELDS)
    subscription.secret = subscription.secret or new_secret()
    subscription.save()
    return subscription


@transaction.atomic
def webhook_update(*, actor, subscription: WebhookSubscription, data: Mapping[str, Any]) -> WebhookSubscription:
    _require_manager(actor, "manage webhooks")
    _check(data)
    subscription = lock_for_update(subscription)
    changed = apply_changes(subscription, data, allowed=EDITABLE_FIELDS)
    if data.get("is_active"):
        subscription.disabled_reason = ""  # Switched on again by a manager.
    if changed:
        subscription.save()
    return subscription


@transaction.atomic
def webhook_delete(*, actor, subscription: WebhookSubscription) -> None:
    _require_manager(actor, "manage webhooks")
    subscription.delete()


@transaction.atomic
def webhook_ping(*, actor, subscription: WebhookSubscription):
    """An event of type ``ping`` to this subscription alone: a test of the receiver."""
    _require_manager(actor, "ping webhooks")
    return emit_to(subscription, "ping", {"subscription_id": str(subscription.pk), "message": "Hello from the CRM."})


@transaction.atomic
def webhook_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again, now, with the same id; pending once more until it is delivered."""
    _require_manager(actor, "redeliver webhooks")
    delivery = lock_for_update(delivery)
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.attempts = 0
    delivery.lease = delivery.lease_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "attempts", "lease", "lease_until"])
    transaction.on_commit(lambda: dispatch([delivery.pk]), robust=True)
    return delivery
