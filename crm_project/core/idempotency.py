"""
Safe retries (beyond the seed): a POST under ``/api/v1/`` sent with an ``Idempotency-Key``
header is carried out at most once per user and key.

- The first request claims the key by inserting a row (autocommit, so every worker and host
  sees the claim at once); the unique (user, key) constraint makes exactly one claimant win.
- Its answer (2xx and 4xx except 429) is stored; a retry with the same key and the same
  method, path and body gets that answer back, marked ``Idempotent-Replayed: true``.
- The same key with a different request is 422. A retry that arrives while the first is
  still being processed waits for it briefly, then gets 409 if it is still running.
- A 5xx or 429 releases the key, so the client's retry does the work.
- Keys live 24 hours; ``manage.py prune_idempotency_keys`` deletes older ones.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException

from crm_project.core.api.authentication import CRMJWTAuthentication
from crm_project.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# How long a retry waits for the first request with its key to finish.
WAIT_FOR_FIRST_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.05
REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")


def _json(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


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


def _claim(user, key: str, fingerprint: str) -> tuple[IdempotencyRecord | None, bool]:
    """
    Insert the claim row and return ``(row, True)``; if another request holds the key,
    return ``(its row, False)`` (``None`` if it vanished meanwhile). Expired keys are freed.
    """
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    try:
        # Its own (sub)transaction: committed at once in production, so every worker sees
        # the claim; a savepoint when already inside one, so a lost race leaves it usable.
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, request_fingerprint=fingerprint), True
    except IntegrityError:
        # Another request holds this key: the unique (user, key) constraint decided.
        return IdempotencyRecord.objects.filter(user=user, key=key).first(), False


def _wait_for_completion(record: IdempotencyRecord) -> IdempotencyRecord | None:
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while time.monotonic() < deadline:
        current = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if current is None or current.is_complete:
            return current
        time.sleep(POLL_INTERVAL_SECONDS)
    return record


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
        return self._process_once(request, user, key, fingerprint)

    def _process_once(self, request, user, key: str, fingerprint: str) -> HttpResponse:
        # Two rounds: if the request holding the key fails and frees it while we wait, we
        # take the key over and do the work ourselves.
        for _round in range(2):
            record, claimed = _claim(user, key, fingerprint)
            if claimed:
                return self._run_and_store(request, record)
            if record is None:
                continue
            if record.request_fingerprint != fingerprint:
                return _json(422, f"This {HEADER} was used with a different request.")
            if not record.is_complete:
                record = _wait_for_completion(record)
                if record is None:
                    continue
                if not record.is_complete:
                    break
            return _replay(record)
        return _json(409, "A request with this key is still being processed; retry shortly.")

    def _run_and_store(self, request, record: IdempotencyRecord) -> HttpResponse:
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if _should_store(response):
            record.status_code = response.status_code
            record.response_body = response.content
            record.response_headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
            record.save(update_fields=["status_code", "response_body", "response_headers"])
        else:
            # A server error or a throttle: free the key so that the client's retry does the work.
            record.delete()
        return response
