"""The kernel's periodic work: hand due jobs over each minute, prune what expired each night."""

from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task

DISPATCH = "Hand over due jobs"
PRUNE = "Prune expired records"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=DISPATCH,
        task="crm_project.core.tasks.dispatch_due_jobs",
        every_seconds=60,
        description="Jobs whose hand-over to a worker failed, retries now due, and jobs whose worker died.",
    )
    ensure_periodic_task(
        apps,
        name=PRUNE,
        task="crm_project.core.tasks.prune_expired",
        crontab={"minute": "30", "hour": "3"},
        description="Idempotency keys, rate counters, ended sign-ins and finished jobs past their time.",
    )


def remove(apps, schema_editor):
    for name in (DISPATCH, PRUNE):
        remove_periodic_task(apps, name=name)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_jobs"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
