"""
The schedules of the periodic work, kept in the database (django-celery-beat) where managers
edit them in the admin ("Periodic tasks"). Each app defines its default schedules once (a
``DefaultSchedule``), creates them in a data migration and registers them from ``apps.py``;
``run_due_schedules`` runs what is due without a broker (``manage.py run_due_work``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class DefaultSchedule:
    """A periodic task the CRM sets up by default: ``crontab`` (in TIME_ZONE) or ``every_seconds``."""

    name: str
    task: str
    description: str
    crontab: dict | None = None
    every_seconds: int | None = None


_DEFAULTS: dict[str, DefaultSchedule] = {}


def register_default(schedule: DefaultSchedule) -> None:
    """Called by each app that owns periodic work, from its ``apps.py``."""
    _DEFAULTS[schedule.name] = schedule


def ensure_periodic_task(apps, schedule: DefaultSchedule) -> None:
    """Create ``schedule`` unless a schedule of that name exists (a manager's change is kept)."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=schedule.name).exists():
        return
    fields = {"task": schedule.task, "description": schedule.description, "enabled": True}
    if schedule.crontab is not None:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        defaults = {"minute": "0", "hour": "*", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
        fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
            **{**defaults, **schedule.crontab}, timezone=settings.TIME_ZONE
        )
    else:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=schedule.every_seconds, period="seconds")
    PeriodicTask.objects.create(name=schedule.name, **fields)
    # A migration's model class skips the signal that tells a running beat to reload: say it here.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_periodic_task(apps, schedule: DefaultSchedule) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=schedule.name).delete()


def ensure_defaults_when_empty(apps) -> None:
    """
    Every default schedule, when there is no schedule at all: after a test database is flushed
    (which empties what the data migrations created). A schedule a manager deleted on purpose
    is not brought back while any other schedule exists.
    """
    if not apps.get_model("django_celery_beat", "PeriodicTask").objects.exists():
        for schedule in _DEFAULTS.values():
            ensure_periodic_task(apps, schedule)


def run_due_schedules(*, now=None) -> list[str]:
    """
    Without a broker and beat (a single host with cron): run each enabled schedule that is due,
    here and now; return the names run. A schedule never run before starts counting from now,
    as beat does. Two runs at once cannot both take one schedule: each claims it by moving its
    ``last_run_at`` with a conditional UPDATE first.
    """
    from django_celery_beat.models import PeriodicTask

    from crm_project.celery import app

    app.loader.import_default_modules()  # The apps' task modules, as a worker loads them.
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


# The kernel's own periodic work.
DISPATCH_DUE_JOBS = DefaultSchedule(
    name="Hand over due jobs",
    task="crm_project.core.tasks.dispatch_due_jobs",
    every_seconds=60,
    description="Jobs whose hand-over to a worker failed, retries now due, and jobs whose worker died.",
)
PRUNE_EXPIRED = DefaultSchedule(
    name="Prune expired records",
    task="crm_project.core.tasks.prune_expired",
    crontab={"minute": "30", "hour": "3"},
    description="Idempotency keys, rate counters, ended sign-ins and finished jobs past their time.",
)
SWEEP_WEBHOOKS = DefaultSchedule(
    name="Sweep webhook deliveries",
    task="crm_project.core.tasks.sweep_webhooks",
    every_seconds=60,
    description="Webhook retries now due, and deliveries whose task was lost or whose deliverer died.",
)
