"""Who may call ``/api/v1/crm`` at all. Record-level rules live in each domain's selectors."""

from rest_framework.permissions import BasePermission

from crm_project.core.roles import has_crm_role, is_manager


class HasCRMRole(BasePermission):
    """Authenticated users without a CRM role (no group, not a superuser) get 403."""

    message = "Your account has no CRM role; ask a manager to add you to sales_rep or sales_manager."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and has_crm_role(request.user))


class IsManager(BasePermission):
    """Managers' endpoints (webhooks): anyone else with a role gets 403."""

    message = "Only sales managers can do this."

    def has_permission(self, request, view) -> bool:
        return is_manager(request.user)
