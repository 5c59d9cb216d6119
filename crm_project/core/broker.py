"""
Handing tasks to the broker: the one place that talks to it, for jobs and webhook deliveries.

A web process hands over a task after many commits (a job, each change's webhook deliveries),
so its connection to the broker is kept and reused: one per process, thread and broker URL
(a forked worker or a thread never shares its parent's socket). A send that fails on a kept
connection (the broker restarted) is tried once more on a new one before the caller hears of
it. The broker is the one the settings name now, not as first read (tests switch it).

Flags (``raise_flag``/``lower_flag``) live in the broker's Redis too, where every web process
and worker of the deployment meets: one SET NX decides which of many processes sends a task
that only needs sending once.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable

import redis
from django.conf import settings

_local = threading.local()


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _app():
    # Imported late: the Celery app imports the task modules, which import the services.
    from crm_project.celery import app

    return app


def _connection(*, fresh: bool = False):
    key = (os.getpid(), settings.CELERY_BROKER_URL)
    kept = getattr(_local, "connection", None)
    if kept is not None and (fresh or _local.key != key):
        _close(kept)
        kept = None
    if kept is None:
        kept = _app().connection_for_write(url=settings.CELERY_BROKER_URL)
        _local.connection, _local.key = kept, key
    return kept


def _close(connection) -> None:
    # A broken connection may fail to close; it is dropped anyway.
    with contextlib.suppress(Exception):
        connection.release()
    _local.connection = None


def send(task: str, calls: Iterable[tuple]) -> None:
    """Send ``task`` once per argument tuple in ``calls``, on the kept connection. Raises if the broker is down."""
    calls = list(calls)
    for attempt in (1, 2):
        connection = _connection(fresh=attempt == 2)
        try:
            for args in calls:
                _app().send_task(
                    task,
                    args=args,
                    connection=connection,
                    queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                    retry=False,
                )
            return
        except Exception:
            _close(connection)
            if attempt == 2:
                raise


def _redis() -> redis.Redis:
    key = (os.getpid(), settings.CELERY_BROKER_URL)
    if getattr(_local, "redis_key", None) != key:
        _local.redis = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        _local.redis_key = key
    return _local.redis


def _flag_key(name: str) -> str:
    # Per queue: deployments (and parallel test runs) sharing a Redis keep their own flags.
    return f"crm:{settings.CELERY_TASK_DEFAULT_QUEUE}:{name}"


def raise_flag(name: str, *, seconds: int) -> bool:
    """
    Raise the flag ``name`` for ``seconds`` unless it is up: True for the one caller that raised
    it (atomic across hosts). With a broker that is not Redis, every caller raises it.
    """
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return True
    return bool(_redis().set(_flag_key(name), 1, nx=True, ex=seconds))


def lower_flag(name: str) -> None:
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        _redis().delete(_flag_key(name))


def ping() -> bool:
    """Whether the broker answers now (a new connection, not the kept one)."""
    try:
        with _app().connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure to reach the broker
        return False
    return True
