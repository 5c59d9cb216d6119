"""Scheduled work of the communications domain (django-celery-beat runs it; ``run_due_work`` without a broker)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from communications import services


@shared_task(name="communications.tasks.send_follow_up_digests")
def send_follow_up_digests() -> int:
    """Each morning: one digest e-mail job per representative with follow-ups today."""
    return services.follow_up_digests_enqueue(day=timezone.localdate())
