"""
The admin site of the CRM (``admin.site``, installed by ``apps.CRMAdminConfig``): the sales
team's daily tool, titled "Sales CRM", with the sales dashboard as its front page.
"""

from __future__ import annotations

from django.contrib import admin

from crm_project.reporting.dashboard import dashboard_context


class CRMAdminSite(admin.AdminSite):
    site_header = "Sales CRM"
    site_title = "Sales CRM"
    index_title = "Dashboard"
    index_template = "admin/crm/dashboard.html"
    # The CRM has no public site to go back to.
    site_url = None

    def index(self, request, extra_context=None):
        # Only a signed-in staff user gets here (admin_view); figures follow their record access.
        context = {**dashboard_context(request.user), **(extra_context or {})}
        return super().index(request, extra_context=context)
