"""
The events other systems can subscribe to, and ``emit``, which a service calls in the
transaction of its change: the event and one delivery per interested subscription are written
there (the outbox), and handed to the deliverers once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import orjson
from django.db import models, transaction

from crm_project.core.jsonencoding import dumps
from crm_project.core.models import WebhookDelivery, WebhookEvent, WebhookSubscription

from .active import active_subscriptions
from .delivery import dispatch

EVENT_TYPES = (
    "lead.created",
    "lead.qualified",
    "lead.converted",
    "lead.assigned",
    "opportunity.created",
    "opportunity.stage_changed",
    "opportunity.won",
    "opportunity.lost",
    "communication.logged",
    "follow_up.completed",
    "customer.created",
    "customer.merged",
    "segment.membership_changed",
    "campaign.sent",
)
ALL_EVENTS = "*"

# How each record type is rendered, registered by the app that owns it: the record as the API
# renders it to a manager. A bulk path's many records are rendered with ``render_many`` (a few
# queries for them all) when the app gives one.
_RENDERERS: dict[str, Callable[[Any], dict]] = {}
_MANY_RENDERERS: dict[str, Callable[[list], dict[Any, dict]]] = {}


def register_renderer(
    record_type: str, render: Callable[[Any], dict], render_many: Callable[[list], dict[Any, dict]] | None = None
) -> None:
    """``render(record)`` → its data; ``render_many(records)`` → ``{pk: data}`` for them all."""
    _RENDERERS[record_type] = render
    if render_many is not None:
        _MANY_RENDERERS[record_type] = render_many


def _as_json(data: dict) -> dict:
    # Through the API's own JSON encoding: money as numbers, times as ISO 8601, ids as text.
    return orjson.loads(dumps(data))


def _render(record_type: str, record) -> dict:
    return _as_json(_RENDERERS[record_type](record))


def _render_all(record_type: str, records: list) -> list[dict]:
    render_many = _MANY_RENDERERS.get(record_type)
    if render_many is None:
        return [_render(record_type, record) for record in records]
    rendered = render_many(records)
    return [_as_json(rendered[record.pk]) for record in records]


def subscribers_of(event_type: str) -> list[WebhookSubscription]:
    return [subscription for subscription in active_subscriptions() if subscription.wants(event_type)]


def emit(
    event_type: str,
    *,
    record_type: str,
    record: models.Model,
    previous: Mapping[str, Any] | None = None,
    data: dict | None = None,
) -> WebhookEvent | None:
    """
    Tell the subscribers of ``event_type`` about ``record`` (rendered now, as the change left it).
    Nothing is written when nobody subscribes. Deliveries start after the caller's commit.
    """
    subscriptions = subscribers_of(event_type)
    if not subscriptions:
        return None
    event = WebhookEvent.objects.create(
        type=event_type,
        record_type=record_type,
        record_id=record.pk,
        data=_as_json(data) if data is not None else _render(record_type, record),
        previous=dict(previous or {}),
    )
    _queue(event, subscriptions)
    return event


def emit_to(subscription: WebhookSubscription, event_type: str, data: dict) -> WebhookEvent:
    """An event for one subscription alone (a ping), whatever it subscribes to."""
    event = WebhookEvent.objects.create(type=event_type, data=data)
    _queue(event, [subscription])
    return event


def _queue(event: WebhookEvent, subscriptions: list[WebhookSubscription]) -> None:
    _queue_all([event], subscriptions)


def _queue_all(events: list[WebhookEvent], subscriptions: list[WebhookSubscription]) -> None:
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=subscription, event=event, record_key=_record_key(event), seq=event.pk)
            for event in events
            for subscription in subscriptions
        ],
        batch_size=1000,
    )
    # After commit: a rolled-back change tells nobody, and a deliverer finds the rows it is sent.
    transaction.on_commit(partial(dispatch, [delivery.pk for delivery in deliveries]), robust=True)


def _record_key(event: WebhookEvent) -> str:
    return f"{event.record_type}:{event.record_id}" if event.record_id else f"event:{event.uid}"


def emit_many(event_type: str, *, record_type: str, records: list, previous_of=lambda record: {}) -> int:
    """``emit`` for many records at once (the bulk paths): written together, delivered in order."""
    subscriptions = subscribers_of(event_type)
    if not subscriptions or not records:
        return 0
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                type=event_type,
                record_type=record_type,
                record_id=record.pk,
                data=data,
                previous=previous_of(record),
            )
            for record, data in zip(records, _render_all(record_type, records), strict=True)
        ],
        batch_size=1000,
    )
    _queue_all(events, subscriptions)
    return len(events)
