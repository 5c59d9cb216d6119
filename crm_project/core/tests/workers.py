"""
Real Celery workers for tests: a ``celery worker`` process on the test database and a queue of
the test's own on the real Redis, started by the test and stopped by its own process group.
The fixtures that use it (``broker``, ``workers``) are in ``crm_project/tests/conftest.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/0"


class Worker:
    """A ``celery worker`` process on the test database and the test's queue; ``env`` adds settings."""

    def __init__(self, queue: str, *, env: Mapping[str, str], concurrency: int = 2):
        db = connection.settings_dict
        environment = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
            **env,
        }
        command = [sys.executable, "-m", "celery", "-A", "crm_project", "worker", "--loglevel=INFO"]
        command += [f"--concurrency={concurrency}", "-Q", queue, "--without-gossip", "--without-mingle"]
        command += ["-n", f"{queue}@%h"]
        # Its own process group: the worker and its pool's children are stopped together.
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.ready = threading.Event()
        self.log: list[str] = []
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self.ready.wait(60):
            self.kill()
            raise AssertionError("The worker did not start:\n" + "".join(self.log[-30:]))

    def _read_log(self) -> None:
        for line in iter(self.process.stderr.readline, b""):
            text = line.decode(errors="replace")
            self.log.append(text)
            if " ready." in text:
                self.ready.set()

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: no warm shutdown, nothing acknowledged on the way out."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(condition, *, timeout: float, what: str, every: float = 0.1, meanwhile=None):
    """Poll ``condition`` until it is true (its value returned); ``meanwhile`` runs between polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if meanwhile is not None:
            meanwhile()
        time.sleep(every)
    raise AssertionError(f"Timed out waiting for {what}")
