"""Which jobs a user may see: a manager every job; anyone else with a CRM role their own."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_project.core.models import Job
from crm_project.core.roles import has_crm_role, is_manager


def job_list_visible_to(user) -> QuerySet[Job]:
    if is_manager(user):
        return Job.objects.all()
    if has_crm_role(user):
        return Job.objects.filter(owner_id=user.pk)
    return Job.objects.none()
