"""The morning follow-up digest, at FOLLOW_UP_DIGEST_HOUR in TIME_ZONE; managers change it in the admin."""

from django.conf import settings
from django.db import migrations

from crm_project.core.schedules import ensure_periodic_task, remove_periodic_task

NAME = "Morning follow-up digest"


def create(apps, schema_editor):
    ensure_periodic_task(
        apps,
        name=NAME,
        task="communications.tasks.send_follow_up_digests",
        crontab={"minute": "0", "hour": str(settings.FOLLOW_UP_DIGEST_HOUR), "day_of_week": "1-5"},
        description="Each working morning, every representative gets their own follow-ups of the day by e-mail.",
    )


def remove(apps, schema_editor):
    remove_periodic_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("communications", "0002_search_trigram_indexes"),
        ("core", "0007_default_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
