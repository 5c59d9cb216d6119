"""
Webhooks in the admin: managers only; subscriptions saved through the services (the URL guard,
the event names), the secret shown once; a ping button; the delivery log and its redeliver
action, with the same X-CRM-Delivery id.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription
from crm_project.core.tests.receiver import Receiver
from crm_project.core.webhooks.services import webhook_create
from customers.services import customer_create

pytestmark = pytest.mark.django_db

ADD = reverse("admin:core_webhooksubscription_add")
SUBSCRIPTIONS = reverse("admin:core_webhooksubscription_changelist")
DELIVERIES = reverse("admin:core_webhookdelivery_changelist")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    running = Receiver().start()
    yield running
    running.stop()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_manager_adds_a_subscription_and_sees_its_secret_once(client, manager, receiver):
    client.force_login(manager)

    response = client.post(
        ADD,
        {"url": receiver.url, "events": ["lead.created", "opportunity.won"], "is_active": "on", "description": "ERP"},
        follow=True,
    )

    subscription = WebhookSubscription.objects.get()
    assert (subscription.url, subscription.events) == (receiver.url, ["lead.created", "opportunity.won"])
    assert any(subscription.secret in message for message in messages_of(response))
    page = client.get(reverse("admin:core_webhooksubscription_change", args=[subscription.pk]))
    assert subscription.secret not in page.content.decode()
    assert 'id="record-history"' not in page.content.decode()  # no history kept of subscriptions


def test_an_internal_address_is_refused_beside_the_url_field(client, manager, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    client.force_login(manager)

    response = client.post(ADD, {"url": "https://10.0.0.8/hooks", "events": ["*"], "is_active": "on"})

    assert response.status_code == 200
    assert "internal" in " ".join(response.context["adminform"].form.errors["url"])
    assert not WebhookSubscription.objects.exists()


def test_reps_do_not_see_webhooks(client, rep, manager, receiver):
    subscription = webhook_create(actor=manager, data={"url": receiver.url, "events": ["*"]})
    client.force_login(rep)

    assert client.get(SUBSCRIPTIONS).status_code == 403
    assert client.get(DELIVERIES).status_code == 403
    assert client.get(reverse("admin:core_webhooksubscription_change", args=[subscription.pk])).status_code == 403
    assert client.post(ADD, {"url": receiver.url, "events": ["*"]}).status_code == 403
    assert "Webhook" not in client.get(reverse("admin:index")).content.decode()


def test_the_ping_button_sends_a_ping_to_that_subscription_alone(
    client, manager, receiver, django_capture_on_commit_callbacks
):
    subscription = webhook_create(actor=manager, data={"url": receiver.url, "events": ["lead.created"]})
    webhook_create(actor=manager, data={"url": receiver.url_at("other"), "events": ["*"]})
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:core_webhooksubscription_ping", args=[subscription.pk]), follow=True)

    assert any("ping is on its way" in message for message in messages_of(response))
    assert [(request.path, request.json["type"]) for request in receiver.requests()] == [("/hooks/crm", "ping")]


def test_the_delivery_log_redelivers_with_the_same_delivery_id(
    client, manager, receiver, django_capture_on_commit_callbacks
):
    webhook_create(actor=manager, data={"url": receiver.url, "events": ["customer.created"]})
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(actor=manager, data={"company_name": "Indigo Mills"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.status == WebhookDeliveryStatus.PENDING
    client.force_login(manager)
    log = client.get(DELIVERIES)
    assert "customer.created" in log.content.decode() and "500" in log.content.decode()

    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [str(delivery.pk)]})

    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    first, again = receiver.requests()
    assert first.headers["X-CRM-Delivery"] == again.headers["X-CRM-Delivery"]
