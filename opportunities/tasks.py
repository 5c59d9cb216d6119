"""Scheduled work of the opportunities domain (django-celery-beat runs it; ``run_due_work`` without a broker)."""

from __future__ import annotations

from celery import shared_task

from opportunities.services import forecast_snapshot_take


@shared_task(name="opportunities.tasks.take_forecast_snapshot")
def take_forecast_snapshot() -> int:
    """Daily: today's forecast snapshot (a second run the same day writes nothing)."""
    return forecast_snapshot_take()
