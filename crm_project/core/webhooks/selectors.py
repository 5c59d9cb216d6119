"""Webhooks are the managers': anyone else sees none (and the API answers them 403)."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_project.core.models import WebhookDelivery, WebhookSubscription
from crm_project.core.roles import is_manager


def webhook_list_visible_to(user) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.all() if is_manager(user) else WebhookSubscription.objects.none()


def delivery_log(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first, with their events."""
    return subscription.deliveries.select_related("event").order_by("-created_at", "-seq")
