"""
The two CRM roles as Django groups with their model permissions (contract: "Roles").
The permissions are listed once, in ``crm_project.core.roles.ROLE_PERMISSIONS``; a
post_migrate receiver (``CoreConfig.ready``) tops them up after later migrations and after
a test database is flushed.
"""

from django.db import migrations

from crm_project.core.roles import grant_role_permissions


def create_role_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create them now
    # so that the groups can be given them on a fresh database.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    grant_role_permissions(apps)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["sales_manager", "sales_rep"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0001_initial"),
        ("leads", "0001_initial"),
        ("opportunities", "0001_initial"),
        ("communications", "0001_initial"),
        ("segments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
