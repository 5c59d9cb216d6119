"""Trigram indexes serving the list's ``search`` filter on PostgreSQL; nothing on SQLite."""

from django.db import migrations

from crm_project.core.migration_ops import ENABLE_TRIGRAM, trigram_index


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        ENABLE_TRIGRAM,
        trigram_index("customers_customer", "company_name", "customers_customer_company_name_trgm"),
        trigram_index("customers_customer", "contact_person", "customers_customer_contact_person_trgm"),
        trigram_index("customers_customer", "email", "customers_customer_email_trgm"),
        trigram_index("customers_customer", "customer_code", "customers_customer_customer_code_trgm"),
    ]
