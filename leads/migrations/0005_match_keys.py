"""Duplicate-matching keys: the fields, their values for existing rows, their indexes (the trigram one on PostgreSQL only)."""

from django.conf import settings
from django.db import migrations, models

from crm_project.core.match_backfill import backfill_match_keys
from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_column_index


def backfill(apps, schema_editor):
    # The keys of the existing rows, in batches: a million leads in well under a minute.
    backfill_match_keys(schema_editor.connection, "leads_lead")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0004_performance_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="match_company_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="lead",
            name="match_email_domain",
            field=models.CharField(blank=True, default="", editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="lead",
            name="match_phone",
            field=models.CharField(blank=True, default="", editable=False, max_length=10),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("match_phone", ""), _negated=True),
                fields=["match_phone"],
                name="lead_match_phone_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("match_email_domain", ""), _negated=True),
                fields=["match_email_domain"],
                name="lead_match_domain_idx",
            ),
        ),
        ENABLE_TRIGRAM,
        trigram_column_index("leads_lead", "match_company_name", "leads_lead_match_company_name_trgm"),
    ]
