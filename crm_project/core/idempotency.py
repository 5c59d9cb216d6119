"""
Safe retries: a POST under ``/api/v1/`` sent with an ``Idempotency-Key``
header is carried out at most once per user and key.

- The request claims the key by inserting a row; the claim, the work and the stored answer
  commit in one transaction. So a worker killed mid-request, or one that loses the database,
  leaves nothing behind (neither the work nor the claim), and the client's retry does the work
  once; an answer lost on its way back is replayed to the retry.
- A request with a key that another request is processing waits at the unique (user, key)
  index until that one commits, then gets its answer back, marked
  ``Idempotent-Replayed: true``; if that one rolled back, it does the work itself.
- The same key with a different method, path or body is 422.
- Answers 2xx and 4xx (except 429) are stored; a 5xx or 429 rolls everything back, so the
  retry does the work.
- Keys live 24 hours; ``manage.py prune_expired`` deletes older ones.

The transaction wraps the view, so the services' own transactions become savepoints of it and
their ``on_commit`` actions run when it commits (``ATOMIC_REQUESTS`` stays off for every
other request).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException

from crm_project.core.api.authentication import CRMJWTAuthentication
from crm_project.core.api.throttles import precount_user_rate
from crm_project.core.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from crm_project.core.models import IdempotencyRecord

logger = logging.getLogger("crm.api")

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")


def _json(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    body = request.body if not request.content_type.startswith("multipart/") else _upload_size(request)
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _upload_size(request: HttpRequest) -> bytes:
    # An upload (a lead import's file) is not read into memory to be fingerprinted: its size
    # stands for it (each upload has its own multipart boundary, so its bytes differ anyway).
    return request.META.get("CONTENT_LENGTH", "").encode()


def _authenticated_user(request: HttpRequest):
    """The Bearer token's user, or None: DRF will answer an unauthenticated request itself."""
    try:
        result = CRMJWTAuthentication().authenticate(request)
    except APIException:
        return None
    return result[0] if result else None


def _should_store(response: HttpResponse) -> bool:
    return 200 <= response.status_code < 500 and response.status_code != 429


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """
    Insert the claim row (inside the request's transaction) and return it; or None when
    another request holds the key, after waiting at the unique index for it to finish.
    """
    # An expired key, or a claim without an answer (only an older version left those), is free.
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    IdempotencyRecord.objects.filter(user=user, key=key, status_code__isnull=True).delete()
    try:
        # A savepoint, so that losing the race leaves the request's transaction usable.
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, request_fingerprint=fingerprint)
    except IntegrityError:
        # The unique (user, key) index decided: another request committed this key first.
        return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        user = _authenticated_user(request)
        if user is None:
            return self.get_response(request)  # DRF answers 401 (or 200 on the token endpoints).
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return _json(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.")
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return _json(413, "Request body is too large.")
        # Counted before the transaction below opens: a rate counter row locked inside it would
        # hold the user's other requests until this one ends. The view's throttle reads the decision.
        precount_user_rate(request, user)
        return self._process_once(request, user, key, fingerprint)

    def _process_once(self, request, user, key: str, fingerprint: str) -> HttpResponse:
        # Two rounds: the key's holder may vanish between our failed claim and our read.
        for _round in range(2):
            with transaction.atomic():
                record = _claim(user, key, fingerprint)
                if record is not None:
                    return self._run_and_store(request, record)
            holder = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if holder is None:
                continue
            if holder.request_fingerprint != fingerprint:
                return _json(422, f"This {HEADER} was used with a different request.")
            return _replay(holder)
        return _json(409, "A request with this key is being processed; retry shortly.")

    def _run_and_store(self, request, record: IdempotencyRecord) -> HttpResponse:
        """Inside the claim's transaction: the work and its answer commit with the claim, or nothing does."""
        response = self.get_response(request)
        if not _should_store(response):
            # A server error or a throttle: nothing of it stays, so the client's retry does the work.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response_body = response.content
        record.response_headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
        try:
            with transaction.atomic():
                record.save(update_fields=["status_code", "response_body", "response_headers"])
        except DatabaseError:
            # The answer cannot be kept, so the work must not be either: the client retries.
            logger.exception("Could not store the answer for %s %s", request.method, request.path)
            transaction.set_rollback(True)
            response = _json(503, DATABASE_UNAVAILABLE)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
