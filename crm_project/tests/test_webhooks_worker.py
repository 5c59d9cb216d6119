"""
Webhook deliveries with real parts: real ``celery worker`` processes on the real Redis, and a
real HTTP receiver on loopback. The test process plays beat: it runs the sweep while it waits.

(a) A change rolled back sends nothing.
(b) The receiver down for a while, then up: every event arrives, in order per record.
(c) A worker killed mid-delivery: the event arrives again with the same ``X-CRM-Delivery``.
(d) 1,000 changes in a burst: all delivered, each once per subscription.
And what the web processes hand the broker: one hand-over task for many changes in a row.

PostgreSQL only: the workers are other processes, which see only committed rows.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict

import pytest
import redis
from django.db import transaction

from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from crm_project.core.tests.factories import ManagerFactory, RepFactory
from crm_project.core.tests.receiver import Receiver
from crm_project.core.tests.workers import REDIS_URL, wait_for
from crm_project.core.webhooks import delivery
from crm_project.core.webhooks.services import webhook_create
from customers.services import customer_create
from leads.services import lead_assign, lead_create, lead_qualify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
# Retries a second apart (in production about 1 min, 5 min, 30 min...): enough of them to
# outlast a receiver down for a few seconds.
RETRY_DELAYS = "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"


@pytest.fixture(autouse=True)
def fast_retries(settings, worker_env):
    """Loopback receivers allowed, quick retries and a short lease: here and in the workers."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_DELAYS = [int(seconds) for seconds in RETRY_DELAYS.split(",")]
    settings.WEBHOOK_LEASE_SECONDS = LEASE_SECONDS
    worker_env.update(
        WEBHOOK_ALLOW_PRIVATE_URLS="1", WEBHOOK_RETRY_DELAYS=RETRY_DELAYS, WEBHOOK_LEASE_SECONDS=str(LEASE_SECONDS)
    )


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def manager():
    return ManagerFactory(username="webhook-manager")


def subscribe(manager, url: str, events=("*",)):
    return webhook_create(actor=manager, data={"url": url, "events": list(events)})


def sweep():
    """What beat does each minute: hand over retries that are due and deliveries whose deliverer died."""
    delivery.sweep()


def all_delivered(expected: int):
    def check() -> bool:
        return WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.DELIVERED).count() == expected

    return check


def test_a_change_rolled_back_sends_nothing(workers, receiver, manager):
    workers()
    subscribe(manager, receiver.url, events=["customer.created"])

    with pytest.raises(RuntimeError), transaction.atomic():
        customer_create(actor=manager, data={"company_name": "Never Was"})
        raise RuntimeError("the request failed after the change")
    # A change that commits afterwards is delivered: the pipeline works, and had its chance.
    customer_create(actor=manager, data={"company_name": "Committed"})
    wait_for(lambda: receiver.requests(), timeout=30, what="the committed change", meanwhile=sweep)
    time.sleep(1)
    sweep()
    time.sleep(1)

    assert [event["data"]["company_name"] for event in receiver.events()] == ["Committed"]
    assert WebhookEvent.objects.count() == 1


def test_the_receiver_down_for_a_while_then_up_gets_every_event_in_order_per_record(workers, receiver, manager):
    workers(concurrency=4)
    subscribe(manager, receiver.url, events=["lead.created", "lead.assigned", "lead.qualified"])
    rep = RepFactory()
    receiver.stop()  # Down: connections refused.

    for number in range(4):
        lead = lead_create(
            actor=manager,
            data={"company_name": f"Mill {number}", "contact_person": "Buyer", "email": f"buyer{number}@mill.example"},
        )
        lead = lead_assign(actor=manager, lead=lead, assignee=rep)
        lead_qualify(actor=manager, lead=lead, qualification_score=70)
    wait_for(
        lambda: WebhookDelivery.objects.filter(attempts__gte=2).exists(),
        timeout=30,
        what="attempts to fail while the receiver is down",
        meanwhile=sweep,
    )
    receiver.start()  # Up again, on the same port.
    wait_for(all_delivered(12), timeout=90, what="every event delivered", every=0.3, meanwhile=sweep)

    events = WebhookEvent.objects.order_by("id")
    assert {event["id"] for event in receiver.events()} == {str(event.uid) for event in events}
    expected_order = defaultdict(list)
    for event in events:
        expected_order[str(event.record_id)].append(str(event.uid))
    arrived_order = defaultdict(list)
    for event in receiver.events():
        if event["id"] not in arrived_order[event["data"]["id"]]:
            arrived_order[event["data"]["id"]].append(event["id"])
    assert arrived_order == expected_order
    assert all(len(uids) == 3 for uids in arrived_order.values())


def test_a_worker_killed_mid_delivery_the_event_arrives_again_with_the_same_delivery_id(workers, receiver, manager):
    first = workers()
    subscribe(manager, receiver.url, events=["customer.created"])
    receiver.hold = True  # The receiver takes the request and keeps the worker waiting.

    customer_create(actor=manager, data={"company_name": "Indigo Mills"})
    wait_for(lambda: receiver.requests(), timeout=30, what="the first attempt to reach the receiver")
    first.kill()  # Mid-delivery: the request sent, no answer read, nothing written.
    receiver.release()
    pending = WebhookDelivery.objects.get()
    assert (pending.status, pending.attempts) == (WebhookDeliveryStatus.PENDING, 0)

    workers()
    wait_for(all_delivered(1), timeout=60, what="the delivery after the lease ran out", every=0.5, meanwhile=sweep)

    requests = receiver.requests()
    assert len(requests) == 2
    assert requests[0].headers["X-CRM-Delivery"] == requests[1].headers["X-CRM-Delivery"]
    assert requests[0].json["id"] == requests[1].json["id"] == str(WebhookEvent.objects.get().uid)
    assert requests[0].body == requests[1].body  # The same event, byte for byte (signed anew).


def test_a_burst_of_1000_changes_is_delivered_each_once_per_subscription(workers, receiver, manager):
    workers(concurrency=4)
    subscribe(manager, receiver.url_at("erp"), events=["customer.created"])
    subscribe(manager, receiver.url_at("warehouse"), events=["*"])

    for number in range(1000):
        customer_create(actor=manager, data={"company_name": f"Burst Customer {number}"})
    wait_for(all_delivered(2000), timeout=240, what="2,000 deliveries", every=0.5, meanwhile=sweep)

    uids = {str(uid) for uid in WebhookEvent.objects.values_list("uid", flat=True)}
    assert len(uids) == 1000
    for path in ("/hooks/erp", "/hooks/warehouse"):
        arrivals = Counter(request.headers["X-CRM-Delivery"] for request in receiver.requests() if request.path == path)
        assert set(arrivals) == uids
        assert set(arrivals.values()) == {1}  # Each once: the receiver never failed, nothing was retried.
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


def queued_tasks(queue: str) -> Counter:
    """The tasks waiting in the broker's queue, by name (Celery's Redis transport: one JSON per message)."""
    client = redis.Redis.from_url(REDIS_URL)
    return Counter(json.loads(message)["headers"]["task"] for message in client.lrange(queue, 0, -1))


def test_changes_in_a_row_send_one_hand_over_and_each_delivery_is_sent_for_once(broker, manager):
    """No worker: what the web processes put in the queue is looked at directly."""
    subscribe(manager, "http://127.0.0.1:9/hooks", events=["customer.created"])
    for number in range(5):
        customer_create(actor=manager, data={"company_name": f"Row Customer {number}"})
    # Five commits, one hand-over: the flag it raised held the other four back.
    assert queued_tasks(broker) == Counter({delivery.HAND_OVER_TASK: 1})

    # The hand-over lowers the flag, then sends a deliverer for each of the five.
    assert delivery.hand_over_due() == 5
    assert queued_tasks(broker) == Counter({delivery.HAND_OVER_TASK: 1, "crm_project.core.tasks.deliver_webhook": 5})
    # A second hand-over before the deliverers ran sends none of them again.
    assert delivery.hand_over_due() == 0

    # The flag is down: the next change sends a hand-over of its own.
    customer_create(actor=manager, data={"company_name": "Row Customer 5"})
    assert queued_tasks(broker)[delivery.HAND_OVER_TASK] == 2
