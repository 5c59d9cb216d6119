"""The nightly refresh of the segments marked auto_refresh, editable by managers in the admin."""

from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task
from segments.schedules import NIGHTLY_REFRESH


def create(apps, schema_editor):
    ensure_periodic_task(apps, NIGHTLY_REFRESH)


def remove(apps, schema_editor):
    remove_periodic_task(apps, NIGHTLY_REFRESH)


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0004_auto_refresh"),
        ("core", "0007_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
