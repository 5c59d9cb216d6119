"""Trigram indexes serving the list's ``search`` filter on PostgreSQL; nothing on SQLite."""

from django.db import migrations

from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_index


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]

    operations = [
        ENABLE_TRIGRAM,
        trigram_index("segments_segment", "name", "segments_segment_name_trgm"),
        trigram_index("segments_segment", "code", "segments_segment_code_trgm"),
        trigram_index("segments_segment", "description", "segments_segment_description_trgm"),
    ]
