"""
Webhooks through the API, delivered to a real HTTP receiver on loopback. Without a broker (as
here) deliveries run in the web process after commit; the fault tests with a real worker are
in ``test_webhooks_worker.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent, WebhookSubscription
from crm_project.core.tests.receiver import Receiver
from crm_project.core.webhooks import delivery, guard
from customers.tests.factories import CustomerFactory
from leads.services import lead_create
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks"
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verifier():
    """The receivers' snippet in the README, run as it is written there."""
    code = re.search(r"```python\n(import hashlib.*?def verify_crm_webhook.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    return namespace["verify_crm_webhook"]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # The receiver is on loopback, over http.
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def call(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call


def subscribe(client, receiver, events=("*",), **fields):
    response = client.post(HOOKS, {"url": receiver.url, "events": list(events), **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- subscriptions ---------------------------------------------------------------------------------


def test_a_manager_subscribes_and_sees_the_secret_once(manager_client, receiver):
    created = subscribe(manager_client, receiver, events=["lead.created"], description="ERP")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    read = manager_client.get(f"{HOOKS}/{created['id']}").json()
    assert "secret" not in read
    assert (read["url"], read["events"], read["is_active"]) == (receiver.url, ["lead.created"], True)


def test_reps_may_not_touch_webhooks(rep_client, receiver):
    assert rep_client.get(HOOKS).status_code == 403
    assert rep_client.post(HOOKS, {"url": receiver.url, "events": ["*"]}, format="json").status_code == 403


def test_unknown_events_are_refused_naming_the_field(manager_client, receiver):
    response = manager_client.post(HOOKS, {"url": receiver.url, "events": ["lead.exploded"]}, format="json")
    assert response.status_code == 400 and "events" in response.json()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://crm-receiver.example.com/hooks", "https"),
        ("https://127.0.0.1/hooks", "internal"),
        ("https://localhost/hooks", "internal"),
        ("https://10.1.2.3/hooks", "internal"),
        ("https://169.254.169.254/latest/meta-data", "internal"),
        ("https://[::1]/hooks", "internal"),
        ("https://[::ffff:192.168.1.5]/hooks", "internal"),
        ("https://100.64.0.7/hooks", "internal"),
    ],
)
def test_urls_to_internal_addresses_or_without_https_are_refused(manager_client, settings, url, why):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = manager_client.post(HOOKS, {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400
    assert why in response.json()["url"][0]


def test_the_guard_is_checked_again_at_delivery(manager_client, receiver, settings, run_on_commit):
    subscribe(manager_client, receiver, events=["customer.created"])
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # As if DNS now pointed the host inward.
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "Acme"}, format="json")
    assert receiver.received == []
    attempt = WebhookDelivery.objects.get()
    assert attempt.status == WebhookDeliveryStatus.PENDING and "https" in attempt.last_error


# --- deliveries ---------------------------------------------------------------------------------------


def test_a_change_is_delivered_signed_with_its_event_id(manager_client, receiver, run_on_commit):
    secret = subscribe(manager_client, receiver, events=["lead.created"])["secret"]
    created = run_on_commit(
        manager_client.post,
        "/api/v1/crm/leads",
        {"company_name": "Lotus", "contact_person": "Meena", "email": "meena@lotus.example"},
        format="json",
    ).json()

    (request,) = receiver.received
    body = request.json
    assert body["type"] == "lead.created"
    assert body["data"] == created  # The lead as the API renders it to a manager.
    assert request.headers["X-CRM-Event"] == "lead.created"
    assert request.headers["X-CRM-Delivery"] == body["id"]
    assert readme_verifier()(secret, request.body, request.headers["X-CRM-Signature"]) is True
    assert readme_verifier()("another-secret", request.body, request.headers["X-CRM-Signature"]) is False
    (logged,) = manager_client.get(f"{HOOKS}/{WebhookSubscription.objects.get().pk}/deliveries").json()["results"]
    assert (logged["event_id"], logged["status"], logged["attempts"], logged["last_status_code"]) == (
        body["id"],
        "delivered",
        1,
        200,
    )


def test_the_readme_verifier_refuses_an_old_signature():
    from crm_project.core.webhooks.signing import signature

    old = signature("s3cret", int(timezone.now().timestamp()) - 3600, b"{}")
    assert readme_verifier()("s3cret", b"{}", old) is False


def test_an_update_carries_the_old_values_in_previous(manager_client, receiver, run_on_commit, rep):
    subscribe(manager_client, receiver, events=["lead.assigned"])
    lead = LeadFactory(assigned_to=None)
    run_on_commit(manager_client.patch, f"/api/v1/crm/leads/{lead.pk}", {"assigned_to_id": rep.pk}, format="json")
    (event,) = receiver.events()
    assert event["previous"]["assigned_to_id"] is None and event["data"]["assigned_to_id"] == rep.pk


def test_a_rolled_back_change_sends_nothing(manager, receiver, run_on_commit, manager_client):
    subscribe(manager_client, receiver, events=["lead.created"])

    def create_then_fail():
        with transaction.atomic():
            lead_create(actor=manager, data={"company_name": "A", "contact_person": "B", "email": "ab@x.example"})
            raise RuntimeError("the rest of the change failed")

    with pytest.raises(RuntimeError):
        run_on_commit(create_then_fail)
    assert receiver.received == [] and not WebhookEvent.objects.exists()


def test_nobody_subscribed_writes_no_event(manager_client, run_on_commit):
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "Acme"}, format="json")
    assert not WebhookEvent.objects.exists()


def test_an_event_goes_to_the_subscriptions_of_the_moment_of_its_change(manager_client, receiver, run_on_commit):
    told = subscribe(manager_client, receiver, events=["customer.created"])
    gone = subscribe(manager_client, receiver, events=["customer.created"])
    # The change commits its event alone; its deliveries are written by the hand-over after it.
    manager_client.post("/api/v1/crm/customers", {"company_name": "Acme"}, format="json")
    event = WebhookEvent.objects.get()
    assert not event.fanned_out and not WebhookDelivery.objects.exists()
    assert sorted(event.subscription_ids) == sorted([told["id"], gone["id"]])

    WebhookSubscription.objects.filter(pk=gone["id"]).delete()
    subscribe(manager_client, receiver, events=["customer.created"])  # after the change: not told

    assert delivery.hand_over_due() == 1
    assert [str(pk) for pk in WebhookDelivery.objects.values_list("subscription_id", flat=True)] == [told["id"]]
    event.refresh_from_db()
    assert event.fanned_out
    assert len(receiver.received) == 1
    assert delivery.hand_over_due() == 0  # Fanned out once.
    assert WebhookDelivery.objects.count() == 1


def test_a_failure_is_retried_later_and_410_switches_the_subscription_off(manager_client, receiver, run_on_commit):
    subscribe(manager_client, receiver, events=["customer.created"])
    receiver.status = 503
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "One"}, format="json")
    attempt = WebhookDelivery.objects.get()
    assert (attempt.status, attempt.attempts, attempt.last_status_code) == ("pending", 1, 503)
    assert dt.timedelta(seconds=50) < attempt.next_attempt_at - timezone.now() <= dt.timedelta(minutes=1)

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    receiver.status = 200
    assert delivery.sweep() == 1
    attempt.refresh_from_db()
    assert (attempt.status, attempt.attempts) == ("delivered", 2)

    receiver.status = 410
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "Two"}, format="json")
    subscription = WebhookSubscription.objects.get()
    assert subscription.is_active is False and "410 Gone" in subscription.disabled_reason


def test_after_the_last_retry_a_delivery_is_given_up(manager_client, receiver, run_on_commit, settings):
    subscribe(manager_client, receiver, events=["customer.created"])
    receiver.status = 500
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "One"}, format="json")
    for _ in range(len(settings.WEBHOOK_RETRY_DELAYS)):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        delivery.sweep()
    attempt = WebhookDelivery.objects.get()
    assert (attempt.status, attempt.attempts) == ("failed", len(settings.WEBHOOK_RETRY_DELAYS) + 1)


def test_a_records_events_arrive_in_order_even_when_the_first_must_wait(manager_client, receiver, run_on_commit, rep):
    subscribe(manager_client, receiver, events=["lead.created", "lead.assigned"])
    receiver.status = 500
    lead = run_on_commit(
        manager_client.post,
        "/api/v1/crm/leads",
        {"company_name": "Lotus", "contact_person": "Meena", "email": "meena@lotus.example"},
        format="json",
    ).json()
    receiver.status = 200
    # The second event of the same lead waits while the first is pending.
    run_on_commit(manager_client.patch, f"/api/v1/crm/leads/{lead['id']}", {"assigned_to_id": rep.pk}, format="json")
    assert [event["type"] for event in receiver.events()] == ["lead.created"]  # The failed attempt only.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    delivered = [(event["type"]) for event in receiver.events()[1:]]
    assert delivered == ["lead.created", "lead.assigned"]


def test_redeliver_sends_the_same_event_again(manager_client, receiver, run_on_commit):
    hook = subscribe(manager_client, receiver, events=["customer.created"])
    run_on_commit(manager_client.post, "/api/v1/crm/customers", {"company_name": "Acme"}, format="json")
    sent = WebhookDelivery.objects.get()
    response = run_on_commit(manager_client.post, f"{HOOKS}/{hook['id']}/deliveries/{sent.pk}/redeliver")
    assert response.status_code == 202
    first, second = receiver.received
    assert first.headers["X-CRM-Delivery"] == second.headers["X-CRM-Delivery"]


def test_ping_goes_to_that_subscription_alone(manager_client, receiver, run_on_commit):
    pinged = subscribe(manager_client, receiver, events=["opportunity.won"])
    other = Receiver().start()
    try:
        subscribe(manager_client, other, events=["*"])
        response = run_on_commit(manager_client.post, f"{HOOKS}/{pinged['id']}/ping")
        assert response.status_code == 202
        assert [event["type"] for event in receiver.events()] == ["ping"]
        assert other.received == []
        assert receiver.events()[0]["id"] == response.json()["event_id"]
    finally:
        other.stop()


def test_membership_changes_are_told(manager_client, receiver, run_on_commit):
    from segments.tests.factories import SegmentFactory

    subscribe(manager_client, receiver, events=["segment.membership_changed"])
    segment = SegmentFactory()
    customers = [str(CustomerFactory().pk) for _ in range(2)]
    run_on_commit(
        manager_client.post,
        f"/api/v1/crm/segments/{segment.pk}/assign-customers",
        {"customer_ids": customers},
        format="json",
    )
    (event,) = receiver.events()
    assert event["data"]["customer_count"] == 2 and event["previous"] == {"customer_count": 0}


def test_blocked_addresses_include_mapped_and_shared_ones():
    for address in ("127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.1.1", "::1"):
        assert guard._blocked(address), address
    assert not guard._blocked("93.184.216.34")
