from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ReportingConfig(AppConfig):
    """
    Composition above the domains: the sales dashboard (the admin's front page), its charts,
    and the demo data. It reads every domain through its selectors and writes through its
    services; it holds no rule of its own.
    """

    name = "crm_project.reporting"
    label = "reporting"
    verbose_name = "Reporting"


class CRMAdminConfig(admin_apps.AdminConfig):
    """The admin, with the CRM's site (sales dashboard on the front page) as ``admin.site``."""

    default = False  # Named in INSTALLED_APPS; ReportingConfig stays this module's default.
    default_site = "crm_project.reporting.admin_site.CRMAdminSite"
