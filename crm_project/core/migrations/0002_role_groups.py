"""
The two CRM roles as Django groups with their model permissions (contract: "Roles").
Record-level rules (whose lead a rep sees) live in each domain's selectors and services;
these permissions decide what the admin offers each role at all.
"""

from django.db import migrations

# Managers may do everything to CRM records.
MANAGER_PERMISSIONS = {
    "customers": {"customer": ("view", "add", "change", "delete")},
    "leads": {"lead": ("view", "add", "change", "delete")},
    "opportunities": {
        "opportunity": ("view", "add", "change", "delete"),
        "opportunitystagechange": ("view",),
    },
    "communications": {"communication": ("view", "add", "change", "delete")},
    "segments": {
        "segment": ("view", "add", "change", "delete"),
        "segmentmembership": ("view", "add", "change", "delete"),
    },
}
# Reps work their own leads, deals and communications; they read customers' segments,
# and only managers delete leads, opportunities and customers or touch segments.
REP_PERMISSIONS = {
    "customers": {"customer": ("view", "add", "change")},
    "leads": {"lead": ("view", "add", "change")},
    "opportunities": {"opportunity": ("view", "add", "change"), "opportunitystagechange": ("view",)},
    "communications": {"communication": ("view", "add", "change", "delete")},
    "segments": {"segment": ("view",), "segmentmembership": ("view",)},
}


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations (post_migrate); create them now
    # so that the groups can be given them on a fresh database.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _grant(apps, group_name, spec):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    for app_label, models in spec.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def create_role_groups(apps, schema_editor):
    _ensure_permissions(apps)
    _grant(apps, "sales_manager", MANAGER_PERMISSIONS)
    _grant(apps, "sales_rep", REP_PERMISSIONS)


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
