"""Trigram indexes serving the list's ``search`` filter on PostgreSQL; nothing on SQLite."""

from django.db import migrations

from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_index


class Migration(migrations.Migration):
    dependencies = [("communications", "0001_initial")]

    operations = [
        ENABLE_TRIGRAM,
        trigram_index("communications_communication", "subject", "communications_communication_subject_trgm"),
        trigram_index("communications_communication", "content", "communications_communication_content_trgm"),
    ]
