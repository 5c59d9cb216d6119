"""Duplicate-matching keys: the fields, their values for existing rows, their indexes (the trigram one on PostgreSQL only)."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

from crm_project.core.match_backfill import backfill_match_keys
from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_column_index


def backfill(apps, schema_editor):
    # The keys of the existing rows, in batches: a million leads in well under a minute.
    backfill_match_keys(schema_editor.connection, "customers_customer")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_search_trigram_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="match_company_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="customer",
            name="match_email_domain",
            field=models.CharField(blank=True, default="", editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="customer",
            name="match_phone",
            field=models.CharField(blank=True, default="", editable=False, max_length=10),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="customer_email_lower_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("match_phone", ""), _negated=True),
                fields=["match_phone"],
                name="customer_match_phone_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("match_email_domain", ""), _negated=True),
                fields=["match_email_domain"],
                name="customer_match_domain_idx",
            ),
        ),
        ENABLE_TRIGRAM,
        trigram_column_index("customers_customer", "match_company_name", "customers_customer_match_company_name_trgm"),
    ]
