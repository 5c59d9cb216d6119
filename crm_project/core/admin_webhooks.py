"""
Webhooks in the admin, for managers only (reps do not see them): subscriptions created,
changed and deleted through the webhook services (the URL guard and the event names checked
there), the secret shown once on creation, a ping button; and the delivery log with a
redeliver action. Registered from ``core/admin.py``.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html

from crm_project.core.admin import ObjectActionsMixin, ServiceModelAdmin, badge, error_message
from crm_project.core.exceptions import DomainError
from crm_project.core.models import WebhookDelivery, WebhookSubscription
from crm_project.core.roles import is_manager
from crm_project.core.webhooks import services
from crm_project.core.webhooks.events import ALL_EVENTS, EVENT_TYPES

EVENT_CHOICES = [(ALL_EVENTS, "All events (*)"), *((name, name) for name in EVENT_TYPES)]


class ManagersOnly:
    """Webhooks reach other systems with the CRM's data: sales managers (and superusers) only."""

    def has_module_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_add_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text="https only, and never an address inside our network (checked now and at each delivery).",
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="What to tell this address about; “All events” includes those added later.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "is_active", "description"]


class PingForm(forms.Form):
    """A confirmation: the ping has nothing to fill in."""


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ManagersOnly, ObjectActionsMixin, ServiceModelAdmin):
    form = WebhookSubscriptionForm
    shows_history = False
    list_display = ["url", "event_list", "active_badge", "description", "created_at", "deliveries_link"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["disabled_reason", "created_at", "deliveries_link"]

    def get_fields(self, request, obj=None):
        fields = ["url", "events", "is_active", "description"]
        return fields if obj is None else [*fields, "disabled_reason", "created_at", "deliveries_link"]

    def visible_queryset(self, request):
        return WebhookSubscription.objects.all()

    def create_record(self, request, data: dict):
        subscription = services.webhook_create(actor=request.user, data=data)
        # The only time the secret is shown: receivers need it to check the signature.
        self.message_user(
            request,
            f"The signing secret of {subscription.url}: {subscription.secret} — copy it now; it is not shown again.",
            level=messages.WARNING,
        )
        return subscription

    def update_record(self, request, obj, data: dict):
        return services.webhook_update(actor=request.user, subscription=obj, data=data)

    def delete_record(self, request, obj) -> None:
        services.webhook_delete(actor=request.user, subscription=obj)

    @admin.display(description="events")
    def event_list(self, subscription: WebhookSubscription) -> str:
        return "all" if ALL_EVENTS in subscription.events else ", ".join(subscription.events)

    @admin.display(description="active", ordering="is_active")
    def active_badge(self, subscription: WebhookSubscription) -> str:
        if subscription.is_active:
            return badge("webhook-active", "active")
        return badge("webhook-off", "off")

    @admin.display(description="deliveries")
    def deliveries_link(self, subscription: WebhookSubscription) -> str:
        url = reverse("admin:core_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    # --- ping: a button on the change page ---------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/ping/",
                self.admin_site.admin_view(self.ping_view),
                name="core_webhooksubscription_ping",
            ),
            *super().get_urls(),
        ]

    def object_buttons(self, request, subscription):
        return [("Send a ping", reverse("admin:core_webhooksubscription_ping", args=[subscription.pk]))]

    def ping_view(self, request, object_id):
        def ping(subscription, data):
            services.webhook_ping(actor=request.user, subscription=subscription)
            return f"A ping is on its way to {subscription.url}; the delivery log shows how it went."

        return self.object_action_view(
            request,
            object_id,
            title="Send a ping",
            submit_label="Send",
            form=lambda subscription, data: PingForm(data),
            perform=ping,
            intro=lambda subscription: f"An event of type “ping” to {subscription.url} alone.",
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ManagersOnly, admin.ModelAdmin):
    """The delivery log: read-only; a delivery is sent again with the redeliver action."""

    list_display = [
        "created_at",
        "event_type",
        "record",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "subscription"]
    list_select_related = ["event", "subscription"]
    list_per_page = 100
    actions = ["redeliver"]
    fields = [
        "subscription",
        "event_type",
        "record",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "created_at",
        "event_id_for_receivers",
        "payload",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="record")
    def record(self, delivery: WebhookDelivery) -> str:
        event = delivery.event
        return f"{event.record_type} {event.record_id}" if event.record_id else "-"

    @admin.display(description="status", ordering="status")
    def status_badge(self, delivery: WebhookDelivery) -> str:
        return badge(f"webhook-{delivery.status}", delivery.get_status_display())

    @admin.display(description="X-CRM-Delivery")
    def event_id_for_receivers(self, delivery: WebhookDelivery) -> str:
        return str(delivery.event.uid)

    @admin.display(description="data sent")
    def payload(self, delivery: WebhookDelivery) -> str:
        return format_html("<pre class='crm-webhook-payload'>{}</pre>", _pretty(delivery.event.data))

    @admin.action(description="Send the selected deliveries again")
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for delivery in queryset:
            try:
                services.webhook_redeliver(actor=request.user, delivery=delivery)
            except DomainError as exc:
                refused.append(error_message(exc))
            else:
                sent += 1
        if sent:
            self.message_user(request, f"{sent} sent again, with their first ids.", level=messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, level=messages.ERROR)


def _pretty(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
