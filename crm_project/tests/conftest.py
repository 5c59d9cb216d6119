"""Fixtures for the tests with real parts: the real Redis as broker, and real worker processes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from crm_project.core.tests.workers import REDIS_URL, Worker


@pytest.fixture
def broker(settings, tmp_path):
    """The real Redis as the broker, on a queue of this test's own; shared files in a temporary media root."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts one)")
    queue = f"crm-test-{uuid.uuid4().hex[:12]}"
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.MEDIA_ROOT = tmp_path
    yield queue
    client.delete(queue)


@pytest.fixture
def worker_env(broker, settings) -> dict[str, str]:
    """Settings the workers get as environment variables (a test adds its own); after ``broker``'s."""
    return {"MEDIA_ROOT": str(Path(settings.MEDIA_ROOT))}


@pytest.fixture
def workers(broker, worker_env):
    """``workers()`` starts one more worker; all are stopped at the end of the test."""
    started: list[Worker] = []

    def start(concurrency: int = 2) -> Worker:
        worker = Worker(broker, env=worker_env, concurrency=concurrency)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
