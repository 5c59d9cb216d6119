from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def _ensure_role_groups(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    # After every migrate, and after every flush of a test database (which empties the
    # groups a data migration created, then emits post_migrate), the role groups exist with
    # their permissions. Permissions of apps later in INSTALLED_APPS are created first, as
    # their own post_migrate has not run yet at this point.
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from crm_project.core.roles import grant_role_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    grant_role_permissions(apps)


class CoreConfig(AppConfig):
    """The shared kernel: numbering, roles, API plumbing. No domain rules live here."""

    name = "crm_project.core"
    label = "core"
    verbose_name = "CRM core"

    def ready(self) -> None:
        post_migrate.connect(_ensure_role_groups, sender=self, dispatch_uid="core.ensure_role_groups")


class CRMAdminConfig(admin_apps.AdminConfig):
    """The admin, with the CRM's site (sales dashboard on the front page) as ``admin.site``."""

    default = False  # Named in INSTALLED_APPS; CoreConfig stays this module's default.
    default_site = "crm_project.core.admin_site.CRMAdminSite"
