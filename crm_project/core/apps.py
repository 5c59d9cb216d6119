from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: numbering, roles, API plumbing. No domain rules live here."""

    name = "crm_project.core"
    label = "core"
    verbose_name = "CRM core"
