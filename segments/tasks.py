"""Scheduled work of the segments domain (django-celery-beat runs it; ``run_due_work`` without a broker)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from segments.services import segment_refresh_start


@shared_task(name="segments.tasks.refresh_auto_segments")
def refresh_auto_segments() -> str:
    """Nightly: the refresh of the auto-refreshed segments, one job per day."""
    return str(segment_refresh_start(day=timezone.localdate()).pk)
