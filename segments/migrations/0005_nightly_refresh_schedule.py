"""The nightly refresh of the segments marked auto_refresh, editable by managers in the admin."""

from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Refresh auto-refreshed segments"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="segments.tasks.refresh_auto_segments",
        crontab={"minute": "0", "hour": "2"},
        description="Each night, customers that have come to meet an auto-refreshed segment's criteria join it.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0004_auto_refresh"),
        ("core", "0007_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
