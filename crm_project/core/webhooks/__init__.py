"""
Webhooks: telling other systems about changes (``WebhookSubscription``, ``WebhookEvent``,
``WebhookDelivery`` in core/models.py).

- ``events``: the event types, the renderers the apps register, and ``emit``, which the
  services call in the transaction of a change (the outbox).
- ``guard``: where a webhook may point (https, and never an internal address), checked when a
  subscription is saved and again at each delivery.
- ``delivery``: the hand-over after a commit (the events' deliveries written, deliverers sent,
  one task for a burst of changes), one attempt to deliver, signed, under a lease, in order per
  record, with retries on a growing schedule; ``sweep`` hands over what a lost task left.
- ``services``: subscriptions, redelivery, ping.
"""
