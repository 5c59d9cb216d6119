from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_delete, post_migrate, post_save


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


def _ensure_default_schedules(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    # After a flush of a test database, which empties what the data migrations created.
    from django.apps import apps

    from crm_project.core.schedules import ensure_defaults_when_empty

    ensure_defaults_when_empty(apps)


def _forget_subscriptions(sender, **kwargs) -> None:
    # A subscription saved or deleted in this process applies here at once, and again once
    # its transaction commits (a change asked for before the commit cached the old list).
    from django.db import transaction

    from crm_project.core.webhooks.active import forget_subscriptions

    forget_subscriptions()
    transaction.on_commit(forget_subscriptions)


class CoreConfig(AppConfig):
    """The shared kernel: numbering, roles, API plumbing, rate limits. It knows no domain."""

    name = "crm_project.core"
    label = "core"
    verbose_name = "CRM core"

    def ready(self) -> None:
        from crm_project.core.schedules import DISPATCH_DUE_JOBS, PRUNE_EXPIRED, SWEEP_WEBHOOKS, register_default

        post_migrate.connect(_ensure_role_groups, sender=self, dispatch_uid="core.ensure_role_groups")
        post_migrate.connect(_ensure_default_schedules, sender=self, dispatch_uid="core.ensure_default_schedules")
        from crm_project.core.models import WebhookSubscription

        for signal in (post_save, post_delete):
            signal.connect(_forget_subscriptions, sender=WebhookSubscription, dispatch_uid=f"core.forget_{signal}")
        for schedule in (DISPATCH_DUE_JOBS, PRUNE_EXPIRED, SWEEP_WEBHOOKS):
            register_default(schedule)
