"""The active subscriptions, kept by each process for a moment: every change asks for them."""

from __future__ import annotations

import time

from django.conf import settings

from crm_project.core.models import WebhookSubscription

# Every change asks who subscribes, and subscriptions change rarely: each process keeps the
# active ones for WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS. The process that changes a subscription
# forgets them at once (``forget_subscriptions``); every other process sees the change within
# that time. Deliveries to a subscription switched off meanwhile are refused at delivery.
_active: tuple[float, list[WebhookSubscription]] | None = None


def forget_subscriptions() -> None:
    global _active
    _active = None


def active_subscriptions() -> list[WebhookSubscription]:
    global _active
    now = time.monotonic()
    if _active is None or now - _active[0] > settings.WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS:
        # Subscriptions are few: one query, filtered in Python (the event list is JSON).
        _active = (now, list(WebhookSubscription.objects.filter(is_active=True)))
    return _active[1]
