"""
Deleting what has outlived its use: stored Idempotency-Key answers past their 24 hours, rate
counters no window reads any more, logged-out sign-ins whose tokens have all expired,
SimpleJWT's records of expired refresh tokens, and finished jobs (with their files) past
``JOB_RETENTION_DAYS``. Run daily: by its schedule, or ``manage.py prune_expired``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from crm_project.core.idempotency import KEY_LIFETIME
from crm_project.core.jobs.services import prune_finished_jobs
from crm_project.core.models import IdempotencyRecord, RateCounter, RevokedSignIn


@dataclass(frozen=True)
class Pruned:
    idempotency_records: int
    rate_counters: int
    revoked_sign_ins: int
    expired_refresh_tokens: int
    finished_jobs: int


def prune_expired(*, idempotency_lifetime=KEY_LIFETIME) -> Pruned:
    now = timezone.now()
    idempotency, _ = IdempotencyRecord.objects.filter(created_at__lt=now - idempotency_lifetime).delete()
    counters, _ = RateCounter.objects.filter(expires_at__lte=int(time.time())).delete()
    sign_ins, _ = RevokedSignIn.objects.filter(expires_at__lte=now).delete()
    # Their blacklist rows go with them (a cascade): an expired token is refused by its expiry.
    expired = OutstandingToken.objects.filter(expires_at__lte=now)
    tokens = expired.count()
    expired.delete()
    return Pruned(
        idempotency_records=idempotency,
        rate_counters=counters,
        revoked_sign_ins=sign_ins,
        expired_refresh_tokens=tokens,
        finished_jobs=prune_finished_jobs(),
    )
