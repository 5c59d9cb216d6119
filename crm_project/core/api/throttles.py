"""
Rate limits, counted atomically in Redis or the database (``core/ratelimit.py``) so that every
gunicorn worker and host sees the same counts and concurrent requests cannot slip past a limit.
Over the limit: 429 with ``Retry-After``.

The client address of the address limits is the socket's, unless ``DJANGO_NUM_PROXIES``
trusted proxies stand in front: then it is the address the nearest of them saw, counted from
the right of ``X-Forwarded-For`` (the left part is whatever the client chose to send).
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from crm_project.core import ratelimit

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Set on the Django request by the idempotency middleware, which must count a request before
# it opens the transaction that holds the request's work (a counter row locked inside that
# transaction would queue the user's other requests until it ends).
PRECOUNTED_USER_RATE = "_crm_user_rate_decision"


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"1200/min"`` → ``(1200, 60)``; ``None`` or ``""`` → no limit."""
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def rate_for(scope: str) -> tuple[int, int] | None:
    # Read on each request, so that settings overrides (and tests) take effect.
    return parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(scope))


class CountingThrottle(BaseThrottle):
    """A limit of N hits per period per key, counted by ``ratelimit.hit``."""

    scope: str

    def __init__(self):
        self._wait: int | None = None

    def key(self, request, view) -> str | None:
        """The key to count under, or None for a request this limit does not apply to."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        return self.allow(self.key(request, view))

    def allow(self, key: str | None) -> bool:
        """Count a hit of ``key``; False (and a ``wait``) when it is over the limit."""
        rate = rate_for(self.scope)
        if rate is None or key is None:
            return True
        limit, period = rate
        count = ratelimit.hit(f"{self.scope}:{key}", period)
        if count.estimate <= limit:
            return True
        # Wait until one more hit would be within the limit.
        self._wait = count.seconds_until_at_most(limit - 1)
        return False

    def wait(self) -> int | None:
        return self._wait


class AuthenticatedUserThrottle(CountingThrottle):
    """A generous per-user budget (``API_USER_RATE``) for every authenticated request."""

    scope = "user"

    def key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None  # Anonymous requests are refused by authentication anyway.
        return str(request.user.pk)

    def allow_request(self, request, view) -> bool:
        precounted = getattr(request._request, PRECOUNTED_USER_RATE, None)
        if precounted is not None:
            allowed, self._wait = precounted
            return allowed
        return super().allow_request(request, view)


def precount_user_rate(request: HttpRequest, user) -> None:
    """Count ``user``'s request now and leave the decision for the view's throttle."""
    throttle = AuthenticatedUserThrottle()
    allowed = throttle.allow(str(user.pk))
    setattr(request, PRECOUNTED_USER_RATE, (allowed, throttle.wait()))


class ClientAddressThrottle(CountingThrottle):
    """Requests from one client address (``AUTH_RATE_PER_IP`` on the token endpoints)."""

    scope = "auth_ip"

    def key(self, request, view) -> str | None:
        return self.get_ident(request)


def username_key(username: object) -> str | None:
    """A username as a counting key: case and surrounding spaces ignored, hashed for safe keys."""
    if not isinstance(username, str) or not username.strip():
        return None
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


class SignInGuard:
    """
    Failed sign-ins per username (``AUTH_RATE_PER_USERNAME``), against password guessing from
    many addresses, without letting a guesser lock the account's owner out.

    Only failures count. Once a username has had its limit of failures within the period, a
    client address that has failed for it meanwhile gets 429 without its password being
    checked; an address that has not failed for it still has its password checked, and a
    correct one signs in (a wrong one is counted and answered 429). So a guesser gets one
    try per address and period, and the owner, typing the right password from their own
    address, is let in. The per-address limit (``ClientAddressThrottle``) applies first.
    """

    scope = "auth_username"

    def __init__(self, *, username: object, address: str):
        self._username = username_key(username)
        self._pair = None
        if self._username is not None:
            self._pair = hashlib.sha256(f"{self._username}|{address}".encode()).hexdigest()

    def _counts(self):
        rate = rate_for(self.scope)
        if rate is None or self._username is None:
            return None
        limit, period = rate
        return limit, ratelimit.peek(f"{self.scope}:{self._username}", period)

    def is_locked(self) -> bool:
        """Whether the username has had its limit of failures within the period."""
        counts = self._counts()
        return counts is not None and counts[1].estimate >= counts[0]

    def address_has_failed(self) -> bool:
        """Whether this client address failed to sign in as the username lately (this window or the last)."""
        rate = rate_for(self.scope)
        if rate is None or self._pair is None:
            return False
        count = ratelimit.peek(f"{self.scope}:pair:{self._pair}", rate[1])
        return count.current + count.previous > 0

    def record_failure(self) -> None:
        rate = rate_for(self.scope)
        if rate is None or self._username is None:
            return
        ratelimit.hit(f"{self.scope}:{self._username}", rate[1])
        ratelimit.hit(f"{self.scope}:pair:{self._pair}", rate[1])

    def wait(self) -> int | None:
        counts = self._counts()
        return counts[1].seconds_until_at_most(counts[0] - 1) if counts else None
