"""
The events other systems can subscribe to, and ``emit``, which a service calls in the
transaction of its change: the event is written there (the outbox), naming the subscriptions
that want it, and announced once that transaction commits. The hand-over then writes one
delivery per subscription (``delivery.fan_out``) and sends the deliverers: the change pays for
one row and its rendering, whatever the number of subscribers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from django.db import models, transaction

from crm_project.core.jsonencoding import dumps
from crm_project.core.models import WebhookEvent, WebhookSubscription

from .active import active_subscriptions
from .delivery import announce

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
        subscription_ids=_ids(subscriptions),
    )
    _announce_after_commit()
    return event


def emit_to(subscription: WebhookSubscription, event_type: str, data: dict) -> WebhookEvent:
    """An event for one subscription alone (a ping), whatever it subscribes to."""
    event = WebhookEvent.objects.create(type=event_type, data=data, subscription_ids=_ids([subscription]))
    _announce_after_commit()
    return event


def _ids(subscriptions: list[WebhookSubscription]) -> list[str]:
    return [str(subscription.pk) for subscription in subscriptions]


def _announce_after_commit() -> None:
    # After commit: a rolled-back change tells nobody, and the hand-over finds the rows it is told of.
    transaction.on_commit(announce, robust=True)


def emit_many(event_type: str, *, record_type: str, records: list, previous_of=lambda record: {}) -> int:
    """``emit`` for many records at once (the bulk paths): written together, delivered in order."""
    subscriptions = subscribers_of(event_type)
    if not subscriptions or not records:
        return 0
    subscription_ids = _ids(subscriptions)
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                type=event_type,
                record_type=record_type,
                record_id=record.pk,
                data=data,
                previous=previous_of(record),
                subscription_ids=subscription_ids,
            )
            for record, data in zip(records, _render_all(record_type, records), strict=True)
        ],
        batch_size=1000,
    )
    _announce_after_commit()
    return len(events)
