"""
The default schedules of the periodic work, kept in the database (django-celery-beat) where
managers edit them in the admin ("Periodic tasks"). Each app's data migration calls
``ensure_periodic_task`` for its own work; ``run_due_work`` runs what is due without a broker.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone


def ensure_periodic_task(
    apps, *, name: str, task: str, description: str, crontab: dict | None = None, every_seconds: int | None = None
) -> None:
    """
    Create the schedule ``name`` for ``task`` unless it exists (a manager's change is kept).
    ``crontab``: minute, hour, day_of_week... in TIME_ZONE; ``every_seconds``: an interval.
    """
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=name).exists():
        return
    fields = {"task": task, "description": description, "enabled": True}
    if crontab is not None:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        defaults = {"minute": "0", "hour": "*", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
        fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
            **{**defaults, **crontab}, timezone=settings.TIME_ZONE
        )
    else:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=every_seconds, period="seconds")
    PeriodicTask.objects.create(name=name, **fields)
    # A migration's model class skips the signal that tells a running beat to reload: say it here.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_periodic_task(apps, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()


def run_due_schedules(*, now=None) -> list[str]:
    """
    Without a broker and beat (a single host with cron): run each enabled schedule that is due,
    here and now; return the names run. A schedule never run before starts counting from now,
    as beat does. Two runs at once cannot both take one schedule: each claims it by moving its
    ``last_run_at`` with a conditional UPDATE first.
    """
    from django_celery_beat.models import PeriodicTask

    from crm_project.celery import app

    now = now or timezone.now()
    ran = []
    for entry in PeriodicTask.objects.filter(enabled=True).select_related("crontab", "interval", "solar", "clocked"):
        if entry.last_run_at is None:
            PeriodicTask.objects.filter(pk=entry.pk, last_run_at__isnull=True).update(last_run_at=now)
            continue
        due, _next = entry.schedule.is_due(entry.last_run_at)
        if not due:
            continue
        claimed = PeriodicTask.objects.filter(pk=entry.pk, last_run_at=entry.last_run_at).update(
            last_run_at=now, total_run_count=entry.total_run_count + 1
        )
        if claimed:
            app.tasks[entry.task](*json.loads(entry.args or "[]"), **json.loads(entry.kwargs or "{}"))
            ran.append(entry.name)
    return ran
