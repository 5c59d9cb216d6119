"""The kernel's periodic work: hand due jobs over each minute, prune what expired each night."""

from django.db import migrations

from crm_project.core.schedules import DISPATCH_DUE_JOBS, PRUNE_EXPIRED, ensure_periodic_task, remove_periodic_task


def create(apps, schema_editor):
    for schedule in (DISPATCH_DUE_JOBS, PRUNE_EXPIRED):
        ensure_periodic_task(apps, schedule)


def remove(apps, schema_editor):
    for schedule in (DISPATCH_DUE_JOBS, PRUNE_EXPIRED):
        remove_periodic_task(apps, schedule)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_jobs"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
