"""
What the in-process benchmarks (``bench/run --history``, ``--merge``, ``--duplicates``) share:
a scratch database, Django set up against it with production settings, progress lines, and
their own section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def ensure_database(database: str) -> None:
    """Create the scratch database ``database`` (a postgres:// URL) unless it is there."""
    import psycopg

    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(database: str, *, name: str) -> None:
    """Django on ``database`` with production settings, no broker, no rate limit in the way."""
    os.environ.update(
        DATABASE_URL=database,
        DJANGO_SETTINGS_MODULE="crm_project.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=f"bench-{name}-" + uuid.uuid4().hex,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        API_USER_RATE="100000000/min",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile_ms(seconds: list[float], fraction: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def write_section(path: Path, section: str, markers: tuple[str, str]) -> None:
    """Put ``section`` (which starts and ends with ``markers``) in place of the old one, or at the end."""
    start, end = markers
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
