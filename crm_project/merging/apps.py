from django.apps import AppConfig


class MergingConfig(AppConfig):
    """
    Composition above the domains: merging duplicate customers and leads, and undoing a
    merge. A merge moves records of every domain (opportunities, communications, converted
    leads, segment memberships, history), so it sits above them all and asks each domain's
    services to move its own rows.
    """

    name = "crm_project.merging"
    label = "merging"
    verbose_name = "Merges"
