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
