"""
Rate limits, counted in the shared cache (Redis or the database) so every gunicorn worker
and host sees the same counts. Over the limit: 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class AuthenticatedUserThrottle(UserRateThrottle):
    """A generous per-user budget (``API_USER_RATE``) for every authenticated request."""

    scope = "user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # Anonymous requests are refused by authentication anyway.
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenEndpointIPThrottle(SimpleRateThrottle):
    """Password guessing from one client address (``AUTH_RATE_PER_IP``)."""

    scope = "auth_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenEndpointUsernameThrottle(SimpleRateThrottle):
    """Password guessing against one account from many addresses (``AUTH_RATE_PER_USERNAME``)."""

    scope = "auth_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return None
        # Hashed: usernames may hold characters a cache key must not.
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
