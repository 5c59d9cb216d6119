"""Run a function from many threads at once, each on its own database connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections


def run_concurrently(worker: Callable[[], Any], *, threads: int) -> tuple[list[Any], list[BaseException]]:
    """
    Start ``threads`` copies of ``worker`` behind a barrier so that they hit the database
    together; return their results and the exceptions they raised.
    """
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            result = worker()
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(exc)
        finally:
            # Each thread opened its own connection; close it so the test database can be dropped.
            connections.close_all()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    return results, errors


def wait_until_a_connection_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Return once some PostgreSQL connection is waiting for a lock another one holds."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("No connection ever waited for a lock.")
