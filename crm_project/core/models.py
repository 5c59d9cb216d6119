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
    """Base of every CRM record: a UUID id (contract) and the two timestamps."""

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
