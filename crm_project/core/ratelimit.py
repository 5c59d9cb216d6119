"""
Counting requests per key (a user, a client address, a username) so that limits hold with
many workers and hosts at once.

Each hit is one atomic increment where the count lives: Redis ``INCR`` when ``REDIS_URL``
is set, otherwise one ``INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING``
statement in the database. Nothing reads a count, changes it and writes it back, so
concurrent requests cannot overwrite each other's hits.

The window slides: a limit of N per period is checked against the hits of the current fixed
window plus those of the previous one, weighted by how much of it still lies within the last
period. That bounds a burst at the edge of two windows (a fixed window would let 2 N through)
at the cost of two counters per key.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger("crm.ratelimit")

# Redis connections fail fast: a rate limit must not hold a request for long.
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class WindowCount:
    """The hits of a key in the current window and the previous one, at one moment."""

    current: int
    previous: int
    # How far into the current window that moment is, from 0 to 1.
    elapsed: float
    period: int

    @property
    def estimate(self) -> float:
        """Hits within the last ``period`` seconds, as the two windows estimate them."""
        return self.previous * (1.0 - self.elapsed) + self.current

    def seconds_until_at_most(self, target: float) -> int:
        """Seconds until ``estimate`` is at most ``target`` if nothing more is counted (at least 1)."""
        if self.current > target:
            # The current window must end; in the next one its hits fade as the previous window's.
            fade = 1.0 - max(target, 0) / self.current
            seconds = (1.0 - self.elapsed + fade) * self.period
        else:
            # The previous window's weight shrinks as time passes: wait until it is small enough.
            weight = (target - self.current) / self.previous if self.previous else 1.0
            seconds = (1.0 - weight - self.elapsed) * self.period
        # The tolerance keeps float noise (9.000000000000002) from adding a second.
        return max(1, math.ceil(seconds - 1e-9))


def _window(period: int, now: float) -> tuple[int, float]:
    start = int(now // period) * period
    return start, (now - start) / period


def hit(key: str, period: int, *, now: float | None = None) -> WindowCount:
    """Count one hit of ``key`` and return the counts including it."""
    now = time.time() if now is None else now
    start, elapsed = _window(period, now)
    current, previous = _store().hit(key, start, period)
    return WindowCount(current=current, previous=previous, elapsed=elapsed, period=period)


def peek(key: str, period: int, *, now: float | None = None) -> WindowCount:
    """The counts of ``key`` without counting a hit."""
    now = time.time() if now is None else now
    start, elapsed = _window(period, now)
    current, previous = _store().peek(key, start, period)
    return WindowCount(current=current, previous=previous, elapsed=elapsed, period=period)


def _store():
    return RedisCounters(settings.REDIS_URL) if settings.REDIS_URL else DatabaseCounters()


# --- where the counts live --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


class RedisCounters:
    """One Redis key per (key, window), expiring once it can no longer be the previous window."""

    prefix = "crm:rate:"

    def __init__(self, url: str):
        self.client = _redis_client(url)

    def _names(self, key: str, start: int, period: int) -> tuple[str, str]:
        return f"{self.prefix}{key}:{start}", f"{self.prefix}{key}:{start - period}"

    def hit(self, key: str, start: int, period: int) -> tuple[int, int]:
        current, previous = self._names(key, start, period)
        try:
            # MULTI/EXEC: the increment, its expiry and the read of the previous window as one step.
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(current)
            pipe.expire(current, 2 * period)
            pipe.get(previous)
            hits, _expiry_set, before = pipe.execute()
        except redis.RedisError:
            # Fail open: an unreachable Redis must not take the API down with it.
            logger.warning("Rate counting skipped: Redis is unreachable", exc_info=True)
            return 0, 0
        return int(hits), int(before or 0)

    def peek(self, key: str, start: int, period: int) -> tuple[int, int]:
        try:
            values = self.client.mget(self._names(key, start, period))
        except redis.RedisError:
            logger.warning("Rate counting skipped: Redis is unreachable", exc_info=True)
            return 0, 0
        return int(values[0] or 0), int(values[1] or 0)


class DatabaseCounters:
    """
    One row per key in ``core_ratecounter``, holding the hits of the key's latest window and of
    the window before it. A hit is a single upsert statement that rolls the windows over when a
    new one has begun and returns both counts, so the database serialises concurrent hits on the
    row and nothing is read and written back. Rows that no window can read any more are
    deleted by ``prune_expired`` (``manage.py prune_expired``, daily).
    """

    table = "core_ratecounter"

    # ``t`` is the row as it was; every SET expression reads the old values. A hit computed just
    # before a window began may arrive after one computed just after it: it counts in the newer
    # window rather than turning the row back.
    UPSERT = f"""
        INSERT INTO {table} AS t (key, window_start, hits, previous_hits, expires_at)
        VALUES (%(key)s, %(start)s, 1, 0, %(expires)s)
        ON CONFLICT (key) DO UPDATE SET
            previous_hits = CASE
                WHEN t.window_start >= excluded.window_start THEN t.previous_hits
                WHEN t.window_start = excluded.window_start - %(period)s THEN t.hits
                ELSE 0 END,
            hits = CASE WHEN t.window_start >= excluded.window_start THEN t.hits + 1 ELSE 1 END,
            expires_at = CASE WHEN t.window_start >= excluded.window_start THEN t.expires_at
                ELSE excluded.expires_at END,
            window_start = CASE WHEN t.window_start >= excluded.window_start THEN t.window_start
                ELSE excluded.window_start END
        RETURNING hits, previous_hits
    """

    def hit(self, key: str, start: int, period: int) -> tuple[int, int]:
        params = {"key": key, "start": start, "period": period, "expires": start + 2 * period}
        with connection.cursor() as cursor:
            cursor.execute(self.UPSERT, params)
            hits, previous = cursor.fetchone()
        return hits, previous

    def peek(self, key: str, start: int, period: int) -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT window_start, hits, previous_hits FROM {self.table} WHERE key = %s", [key])
            row = cursor.fetchone()
        if row is None:
            return 0, 0
        window_start, hits, previous = row
        if window_start >= start:
            return hits, previous
        # The row's windows have passed: its latest may be the previous window now.
        return 0, hits if window_start == start - period else 0
