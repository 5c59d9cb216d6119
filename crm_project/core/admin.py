"""
The admin's bridge to the services: saves and deletes made in the admin go through the
same service functions as the API, and their refusals come back as admin messages.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect

from crm_project.core.exceptions import DomainError


def error_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        return " ".join(exc.messages)
    if isinstance(exc, DomainError):
        return exc.message
    return str(exc) or "You do not have permission to do this."


class ServiceRefused(Exception):
    """A service refused an admin save or delete; carries the service's own exception."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


@contextmanager
def _refusals_reported():
    # Only refusals raised by the services are turned into messages: the admin's own
    # PermissionDenied (no permission for the page at all) must stay a 403.
    try:
        yield
    except (ValidationError, DomainError, PermissionDenied) as exc:
        raise ServiceRefused(exc) from exc


class ServiceModelAdmin(admin.ModelAdmin):
    """
    Subclasses implement ``create_record``, ``update_record`` and ``delete_record`` with one
    service call each, and ``visible_queryset`` with the domain's visibility selector.
    """

    show_full_result_count = False  # No second full-table COUNT on every changelist load.
    # A website typed without a scheme means https (Django 6's default, opted into now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def visible_queryset(self, request):
        raise NotImplementedError

    def create_record(self, request, data: dict):
        raise NotImplementedError

    def update_record(self, request, obj, data: dict):
        raise NotImplementedError

    def delete_record(self, request, obj) -> None:
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = self.visible_queryset(request)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def save_model(self, request, obj, form, change):
        with _refusals_reported():
            if change:
                changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
                saved = self.update_record(request, obj, changes)
            else:
                saved = self.create_record(request, dict(form.cleaned_data))
        # The admin goes on with the object its form built (inlines, log entry, redirect):
        # give it the state the service saved.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def delete_model(self, request, obj):
        with _refusals_reported():
            self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        with _refusals_reported():
            for obj in queryset:
                self.delete_record(request, obj)

    def _refused(self, request, refusal: ServiceRefused):
        self.message_user(request, error_message(refusal.cause), level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refusal:
            # The service refused at save time; its transaction rolled everything back.
            return self._refused(request, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refusal:
            return self._refused(request, refusal)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefused as refusal:
            # A bulk action refused by a service.
            return self._refused(request, refusal)
