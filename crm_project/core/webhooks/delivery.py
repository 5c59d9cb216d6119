"""
Delivering events: one attempt at a time, under a lease, in order per record.

- A deliverer takes a delivery's lease with one conditional UPDATE (a pending delivery that is
  due and not held, or held by a deliverer whose lease ran out): a delivery handed over twice is
  attempted once at a time, and one whose deliverer died is attempted again by the sweep, with
  the same ``X-CRM-Delivery`` id, so the receiver can drop a repeat.
- A record's events reach a subscription in the order they happened: a delivery waits while an
  earlier one of the same record to the same subscription is pending, and each delivery that
  ends hands over the next in its queue.
- A change writes its event alone (``events.emit``) and, once committed, ``announce``s it: the
  first announcement raises a flag in the broker and sends one hand-over task; those after it,
  while the flag is up, send nothing (a task per change would cost every write a broker round
  trip). The hand-over lowers the flag first, then writes the deliveries of every event not yet
  fanned out (one per subscription the event names, in the events' order) and sends a deliverer
  for every delivery due: a change that committed before the flag came down is among them, and
  one after it raises the flag again. A delivery sent for is marked (``lease_until`` without a
  ``lease``) so that the next hand-over does not send it twice; the sweep each minute is a
  hand-over too, for what a lost task left.
- ``POST`` with a 10 s timeout, no redirects followed, to the address the URL guard checked.
  A 2xx is delivered; 410 Gone switches the subscription off; anything else (or no answer) is
  tried again after about 1 min, 5 min, 30 min, 2 h, 6 h and 24 h (WEBHOOK_RETRY_DELAYS), then
  given up.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm_project.core import broker
from crm_project.core.jsonencoding import dumps
from crm_project.core.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent, WebhookSubscription

from . import guard
from .active import forget_subscriptions
from .signing import signature

logger = logging.getLogger("crm.webhooks")

TIMEOUT_SECONDS = 10
PENDING = WebhookDeliveryStatus.PENDING


HAND_OVER_TASK = "crm_project.core.tasks.sweep_webhooks"
HAND_OVER_FLAG = "webhooks:hand-over"
# How long a raised flag holds back further hand-over tasks if its task is lost; the sweep
# covers the deliveries meanwhile.
HAND_OVER_FLAG_SECONDS = 10
HAND_OVER_BATCH = 1000


def announce() -> None:
    """
    After a commit that wrote events: one hand-over task for however many changes commit
    meanwhile; without a broker, the hand-over runs in this process now.
    """
    if not broker.broker_configured():
        hand_over_due()
        return
    try:
        first = broker.raise_flag(HAND_OVER_FLAG, seconds=HAND_OVER_FLAG_SECONDS)
    except Exception:  # noqa: BLE001 - the flag's store is the broker: the send below tells
        first = True
    if not first:
        return
    try:
        broker.send(HAND_OVER_TASK, [()])
    except Exception:
        logger.warning("Broker unavailable: deliveries wait for the sweep", exc_info=True)
        with contextlib.suppress(Exception):
            broker.lower_flag(HAND_OVER_FLAG)


def dispatch(delivery_ids: Iterable) -> None:
    """Hand deliveries to the deliverers: Celery workers through the broker, or this process."""
    ids = [str(pk) for pk in delivery_ids]
    if not broker.broker_configured():
        for delivery_id in ids:
            deliver(delivery_id)
        return
    try:
        broker.send("crm_project.core.tasks.deliver_webhook", [(delivery_id,) for delivery_id in ids])
    except Exception:
        logger.warning("Broker unavailable: %s deliveries wait for the sweep", len(ids), exc_info=True)


def _earlier_pending(delivery: WebhookDelivery):
    return WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id, record_key=delivery.record_key, status=PENDING, seq__lt=delivery.seq
    )


def _claim(delivery_id, token: uuid.UUID) -> bool:
    now = timezone.now()
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=PENDING, next_attempt_at__lte=now)
        .filter(Q(lease__isnull=True) | Q(lease_until__lt=now))
        .update(lease=token, lease_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS))
    )


def body_of(delivery: WebhookDelivery) -> bytes:
    event = delivery.event
    return dumps(
        {
            "id": str(event.uid),
            "type": event.type,
            "created_at": timezone.localtime(event.created_at).isoformat(),
            "data": event.data,
            "previous": event.previous,
        }
    )


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery) -> int:
    """One signed POST to the address the guard checks now; the HTTP status."""
    target = guard.check(subscription.url)
    body = body_of(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CRM-Webhooks/1",
        "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        "X-CRM-Event": delivery.event.type,
        "X-CRM-Delivery": str(delivery.event.uid),
        "X-CRM-Signature": signature(subscription.secret, timestamp, body),
    }
    timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    if target.scheme == "https":
        # Connected to the checked address; the certificate is checked against the URL's host.
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)
    with pool:
        response = pool.urlopen("POST", target.path, body=body, headers=headers, redirect=False, retries=False)
        return response.status


def deliver(delivery_id) -> str:
    """
    Attempt one delivery if it is due, held by nobody and first in its record's queue; return what
    happened: "delivered", "retrying", "failed", "gone", "waiting" or "skipped".
    """
    token = uuid.uuid4()
    if not _claim(delivery_id, token):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, lease=token)
    if _earlier_pending(delivery).exists():
        mine.update(lease=None, lease_until=None)  # Handed over when the earlier one ends.
        # The earlier one may have ended in between, and found this one still held: go on.
        return "waiting" if _earlier_pending(delivery).exists() else deliver(delivery_id)
    subscription = delivery.subscription
    now = timezone.now()
    if not subscription.is_active:
        mine.update(
            status=WebhookDeliveryStatus.FAILED,
            last_error="The subscription is switched off.",
            lease=None,
            lease_until=None,
        )
        _hand_over_next(delivery)
        return "failed"
    try:
        status = _post(subscription, delivery)
        error = "" if 200 <= status < 300 else f"The receiver answered {status}."
    except guard.BlockedURL as blocked:
        status, error = None, str(blocked)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        status, error = None, f"No answer: {type(exc).__name__}."
    attempts = delivery.attempts + 1
    changes = {
        "attempts": attempts,
        "last_status_code": status,
        "last_error": error[:300],
        "last_attempt_at": now,
        "lease": None,
        "lease_until": None,
    }
    if status is not None and 200 <= status < 300:
        outcome = "delivered"
        changes["status"] = WebhookDeliveryStatus.DELIVERED
    elif status == 410:
        outcome = "gone"
        changes["status"] = WebhookDeliveryStatus.FAILED
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            is_active=False,
            disabled_reason=f"The receiver answered 410 Gone on {timezone.localtime(now):%Y-%m-%d %H:%M}.",
        )
        forget_subscriptions()
    elif attempts <= len(settings.WEBHOOK_RETRY_DELAYS):
        outcome = "retrying"
        changes["next_attempt_at"] = now + timedelta(seconds=settings.WEBHOOK_RETRY_DELAYS[attempts - 1])
    else:
        outcome = "failed"
        changes["status"] = WebhookDeliveryStatus.FAILED
    if not mine.update(**changes):
        logger.warning("Delivery %s was taken over before its outcome was written", delivery.pk)
    if outcome != "retrying":
        _hand_over_next(delivery)
    return outcome


def _hand_over_next(delivery: WebhookDelivery) -> None:
    following = (
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            record_key=delivery.record_key,
            status=PENDING,
            seq__gt=delivery.seq,
        )
        .order_by("seq")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        dispatch([following])


def due_delivery_ids(*, now=None, lock: bool = False) -> list:
    """
    Deliveries to hand over (again): pending, due, neither held by a deliverer nor sent for (or
    their time for it ran out: the deliverer died, the task was lost), and first in their
    record's queue. ``lock``: rows another hand-over is taking are skipped.
    """
    now = now or timezone.now()
    earlier = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        record_key=OuterRef("record_key"),
        status=PENDING,
        seq__lt=OuterRef("seq"),
    )
    due = (
        WebhookDelivery.objects.filter(status=PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(Exists(earlier))
    )
    if lock:
        due = due.select_for_update(skip_locked=True)
    return list(due.order_by("seq").values_list("pk", flat=True)[:HAND_OVER_BATCH])


def fan_out() -> int:
    """
    The deliveries of the events not yet fanned out: one per subscription each names (a
    subscription deleted since is left out), in the events' order. Fan-outs take the events' rows
    one after another, so two never write the same deliveries.
    """
    with transaction.atomic():
        events = list(
            WebhookEvent.objects.filter(fanned_out=False)
            .order_by("id")
            .select_for_update()
            .only("id", "uid", "record_type", "record_id", "subscription_ids")[:HAND_OVER_BATCH]
        )
        if not events:
            return 0
        named = {pk for event in events for pk in event.subscription_ids}
        existing = {str(pk) for pk in WebhookSubscription.objects.filter(pk__in=named).values_list("pk", flat=True)}
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription_id=pk, event=event, record_key=event.record_key, seq=event.pk)
                for event in events
                for pk in event.subscription_ids
                if pk in existing
            ],
            batch_size=1000,
        )
        WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out=True)
    return len(events)


def hand_over_due(*, now=None) -> int:
    """
    Write the deliveries of new events, then send a deliverer for each delivery due (on an
    announcement, and each minute as the sweep): new ones, retries now due, and those whose
    task was lost or whose deliverer died. The number of deliverers sent.
    """
    if broker.broker_configured():
        # First: a change that commits from now on raises the flag again (see the module's text).
        with contextlib.suppress(Exception):
            broker.lower_flag(HAND_OVER_FLAG)
    more_events = fan_out() == HAND_OVER_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        ids = due_delivery_ids(now=now, lock=True)
        # Sent for: not sent again by the next hand-over while a deliverer is on its way.
        WebhookDelivery.objects.filter(pk__in=ids, lease__isnull=True).update(
            lease_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        )
    dispatch(ids)
    if more_events or len(ids) == HAND_OVER_BATCH:
        announce()  # More to do: another hand-over after this one.
    return len(ids)


def sweep(*, now=None) -> int:
    """Each minute: ``hand_over_due``."""
    return hand_over_due(now=now)
