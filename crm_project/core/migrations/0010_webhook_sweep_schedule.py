"""The sweep of webhook deliveries, each minute."""

from django.db import migrations

from crm_project.core.schedules import SWEEP_WEBHOOKS, ensure_periodic_task, remove_periodic_task


def create(apps, schema_editor):
    ensure_periodic_task(apps, SWEEP_WEBHOOKS)


def remove(apps, schema_editor):
    remove_periodic_task(apps, SWEEP_WEBHOOKS)


class Migration(migrations.Migration):
    dependencies = [("core", "0009_webhooks")]

    operations = [migrations.RunPython(create, remove)]
