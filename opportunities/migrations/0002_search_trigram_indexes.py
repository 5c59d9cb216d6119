"""Trigram indexes serving the list's ``search`` filter on PostgreSQL; nothing on SQLite."""

from django.db import migrations

from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_index


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [
        ENABLE_TRIGRAM,
        trigram_index("opportunities_opportunity", "name", "opportunities_opportunity_name_trgm"),
        trigram_index(
            "opportunities_opportunity", "opportunity_number", "opportunities_opportunity_opportunity_number_trgm"
        ),
        trigram_index("opportunities_opportunity", "description", "opportunities_opportunity_description_trgm"),
    ]
