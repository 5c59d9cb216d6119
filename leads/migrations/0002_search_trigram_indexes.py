"""Trigram indexes serving the list's ``search`` filter on PostgreSQL; nothing on SQLite."""

from django.db import migrations

from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_index


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [
        ENABLE_TRIGRAM,
        trigram_index("leads_lead", "company_name", "leads_lead_company_name_trgm"),
        trigram_index("leads_lead", "contact_person", "leads_lead_contact_person_trgm"),
        trigram_index("leads_lead", "email", "leads_lead_email_trgm"),
        trigram_index("leads_lead", "lead_number", "leads_lead_lead_number_trgm"),
    ]
