"""Shared kernel models: the counters behind document numbers, the base of every record."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class DailySequence(models.Model):
    """
    One counter row per (prefix, period): ``("LEAD", "20251215")`` numbers that day's leads,
    ``("CUST", "")`` is the running customer counter. Only ``numbering.py`` writes it.
    """

    prefix = models.CharField(max_length=16)
    # "YYYYMMDD" for daily sequences, "" for sequences that never reset.
    period = models.CharField(max_length=8, blank=True, default="")
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "period"], name="dailysequence_prefix_period_uniq")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.period or '*'}: {self.last_value}"


class CRMRecord(models.Model):
    """Base of every CRM record: a UUID id (never guessable, unlike a counter) and the two timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every service write sets this (``auto_now`` does not fire on ``update()``); the
    # record's ETag is derived from it.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def touch(self) -> None:
        """Mark the record as changed now, before a save by a service."""
        self.updated_at = timezone.now()


class IdempotencyRecord(models.Model):
    """
    The first answer to a POST sent with an ``Idempotency-Key``, kept 24 hours so that a
    retry with the same key and body gets that answer instead of doing the work twice.
    The row commits together with the work and its answer (``idempotency.py``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused (422).
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.SmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"

    @property
    def is_complete(self) -> bool:
        return self.status_code is not None


class RateCounter(models.Model):
    """
    The hits of one rate-limit key in its latest fixed window and in the window before it
    (``ratelimit.py``), when no Redis is configured. Written only by ``DatabaseCounters``,
    with one atomic upsert per hit.
    """

    key = models.CharField(max_length=255, unique=True)
    # Unix seconds at which the latest window starts; a multiple of the limit's period.
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    previous_hits = models.PositiveIntegerField(default=0)
    # Unix seconds after which no window reads this row any more (it can be deleted).
    expires_at = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="ratecounter_expires_idx")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.hits}"


class RevokedSignIn(models.Model):
    """
    A sign-in ended by logout. Every token issued from one sign-in (its refresh tokens, each
    rotation's successor, and their access tokens) carries the sign-in's id in its ``sid``
    claim; a row here makes all of them invalid at once (``api/tokens.py``).
    """

    sign_in_id = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    revoked_at = models.DateTimeField(default=timezone.now)
    # No token of the sign-in outlives this; the row is useless after it and may be deleted.
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="revokedsignin_expires_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.sign_in_id}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    """
    One piece of background work: an import, an export, a digest, a refresh (``core/jobs``).

    The row is written in the transaction that asks for the work, so the work is never lost:
    it is handed to a worker after commit, and again by the next dispatch of due jobs if that
    hand-over failed or its worker died. Whoever runs it first takes its ``lease``; a second
    delivery finds it taken or finished and does nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    # Who asked (their record access applies); nobody for the scheduled work of the system.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One job per unit of work that must not be done twice ("follow_up_digest:2025-12-15:7").
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    # Row errors of an import: [{"row", "field", "message"}].
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    input_file = models.FileField(upload_to="jobs/input/", blank=True)
    output_file = models.FileField(upload_to="jobs/output/", blank=True)
    # Not to be started before this (a retry waits); the dispatch of due jobs reads it.
    run_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="job_created_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="job_owner_created_idx"),
            # The dispatch of due jobs reads the unfinished ones only.
            models.Index(
                fields=["status", "run_after"],
                name="job_unfinished_idx",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES


class HistoryAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    QUALIFIED = "qualified", "Qualified"
    CONVERTED = "converted", "Converted"
    STAGE_CHANGED = "stage_changed", "Stage changed"
    CLOSED_WON = "closed_won", "Closed as won"
    CLOSED_LOST = "closed_lost", "Closed as lost"
    FOLLOW_UP_COMPLETED = "follow_up_completed", "Follow-up completed"
    MERGED = "merged", "Merged"
    MEMBERSHIP_ADDED = "membership_added", "Customer added"
    MEMBERSHIP_REMOVED = "membership_removed", "Customer removed"


class HistoryEntry(models.Model):
    """
    One change to one record (``core/history.py``): written by the service that made it, in the
    same transaction. Kept when the record is deleted: its history stays readable.
    """

    at = models.DateTimeField(default=timezone.now)
    # "lead", "opportunity", "customer", "communication", "segment".
    record_type = models.CharField(max_length=20)
    record_id = models.UUIDField()
    # The customer whose timeline shows the entry: the customer itself, its opportunities, the
    # leads converted into it, its memberships (moved with the record when it moves).
    customer_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=24, choices=HistoryAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's name when it happened (kept if the user is renamed or deleted); "system".
    actor_name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10)
    request_id = models.CharField(max_length=64, blank=True)
    # {"field": [old, new]}, under the API's field names and as the API shows values.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "history entries"
        indexes = [
            models.Index(fields=["record_type", "record_id", "-at", "-id"], name="history_record_idx"),
            models.Index(
                fields=["customer_id", "-at", "-id"],
                name="history_customer_idx",
                condition=models.Q(customer_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}: {self.action} by {self.actor_name} ({self.source})"


class WebhookSubscription(models.Model):
    """Where to tell another system about changes (``core/webhooks``): its URL, events and secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=500)
    # Event types ("lead.created", ...), or ["*"] for all of them.
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    # The HMAC key of the signature; shown once, when the subscription is created.
    secret = models.CharField(max_length=200)
    # Why it was switched off by the CRM (its URL answered 410 Gone); empty otherwise.
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class WebhookEvent(models.Model):
    """
    One change told to subscribers: written in the transaction of the change (an outbox), so a
    change that rolls back tells nobody and one that commits is never lost. Its id is the
    ``X-CRM-Delivery`` header, the same on every attempt: a receiver drops a repeat by it.
    """

    # Numbered by the database as written: the order of a record's events.
    id = models.BigAutoField(primary_key=True)
    # The event's id for receivers (``X-CRM-Delivery``, the body's ``id``).
    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    record_type = models.CharField(max_length=20, blank=True)
    record_id = models.UUIDField(null=True, blank=True)
    data = models.JSONField(default=dict)
    previous = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # Who is told, as decided by the change: the subscriptions that wanted it then. Their delivery
    # rows are written after the commit, by the hand-over (``webhooks/delivery.py``), which marks
    # the event fanned out: the change itself writes one row.
    subscription_ids = models.JSONField(default=list)
    fanned_out = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="webhookevent_fan_out_idx", condition=models.Q(fanned_out=False)),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"

    @property
    def record_key(self) -> str:
        """What orders deliveries: a record's events one after another; an event of no record alone."""
        return f"{self.record_type}:{self.record_id}" if self.record_id else f"event:{self.uid}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event to one subscription: its attempts, under a lease like a job's (``webhooks/delivery.py``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The event's record and number, copied here so that a record's deliveries queue in order.
    record_key = models.CharField(max_length=60, blank=True)
    seq = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhookdelivery_once_per_subscription")
        ]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhookdelivery_log_idx"),
            models.Index(
                fields=["subscription", "record_key", "seq"],
                name="webhookdelivery_queue_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["next_attempt_at"], name="webhookdelivery_due_idx", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class MergeRedirect(models.Model):
    """
    A record merged into another (Sentry's ``GroupRedirect``): its row is gone, its id still
    answers, with a 404 naming the survivor (``core/redirects.py``). Written and removed by the
    merge services with the merge; domain-free, so every layer may follow it.
    """

    # "customer", "lead".
    record_type = models.CharField(max_length=20)
    record_id = models.UUIDField()
    merged_into = models.UUIDField()
    # The merge that made it (its undo removes it).
    merge_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="mergeredirect_record_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} → {self.merged_into}"
