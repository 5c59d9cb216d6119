"""The morning follow-up digest, at FOLLOW_UP_DIGEST_HOUR in TIME_ZONE; managers change it in the admin."""

from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task
from communications.schedules import MORNING_DIGEST


def create(apps, schema_editor):
    ensure_periodic_task(apps, MORNING_DIGEST)


def remove(apps, schema_editor):
    remove_periodic_task(apps, MORNING_DIGEST)


class Migration(migrations.Migration):
    dependencies = [
        ("communications", "0002_search_trigram_indexes"),
        ("core", "0007_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
