"""The daily forecast snapshot, editable by managers in the admin ("Periodic tasks")."""

from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task
from opportunities.schedules import DAILY_FORECAST_SNAPSHOT


def create(apps, schema_editor):
    ensure_periodic_task(apps, DAILY_FORECAST_SNAPSHOT)


def remove(apps, schema_editor):
    remove_periodic_task(apps, DAILY_FORECAST_SNAPSHOT)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0005_forecast_category_constraint"),
        ("core", "0007_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
