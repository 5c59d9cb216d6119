"""
Merges in the admin, for managers: a "Merge selected" action on the customer and lead lists
(pick the survivor and, field by field, whose value it keeps; a confirmation page), and the
merges themselves, read-only, each with an "Undo this merge" button. Both call the merge
services, as the API does.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from crm_project.core.admin import SERVICE_REFUSALS, error_message
from crm_project.core.history import snapshot
from crm_project.core.roles import is_manager
from customers.models import Customer
from leads.models import Lead

from . import services
from .models import Merge, MergeKind

KEEP_SURVIVOR_S = ""


class MergeChoicesForm(forms.Form):
    """The survivor among the selected records, and for each field that differs, whose value it keeps."""

    def __init__(self, kind: str, records: list, data=None):
        super().__init__(data)
        spec = services.SPECS[kind]
        self.kind, self.records = kind, records
        self.fields["survivor"] = forms.ChoiceField(
            label="Keep",
            choices=[(str(record.pk), str(record)) for record in records],
            initial=str(records[0].pk),
            widget=forms.RadioSelect,
            help_text="The record that stays; the others are merged into it and disappear (undo within "
            "30 days from the merge's page).",
        )
        values = {record.pk: snapshot(record, spec.fields) for record in records}
        for api_name in spec.api_fields():
            shown = {str(record.pk): values[record.pk][api_name] for record in records}
            if len({repr(value) for value in shown.values()}) < 2:
                continue  # The same everywhere: nothing to choose.
            self.fields[f"take_{api_name}"] = forms.ChoiceField(
                label=api_name.replace("_", " "),
                required=False,
                choices=[(KEEP_SURVIVOR_S, "the kept record's own")]
                + [
                    (pk, f"{record}: {shown[pk] if shown[pk] not in (None, '') else '(empty)'}")
                    for pk, record in ((str(r.pk), r) for r in records)
                ],
            )

    def merge_arguments(self) -> dict:
        survivor = self.cleaned_data["survivor"]
        fields = {
            name.removeprefix("take_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("take_") and value not in (KEEP_SURVIVOR_S, survivor)
        }
        return {
            "survivor_id": survivor,
            "duplicate_ids": [str(record.pk) for record in self.records if str(record.pk) != survivor],
            "fields": fields,
        }


def _merge_action(kind: str):
    def merge_selected(modeladmin, request, queryset):
        records = list(queryset.order_by("created_at", "pk")[: services.MAX_DUPLICATES + 2])
        if not 2 <= len(records) <= services.MAX_DUPLICATES + 1:
            modeladmin.message_user(
                request,
                f"Select between 2 and {services.MAX_DUPLICATES + 1} records to merge.",
                level=messages.WARNING,
            )
            return None
        applying = "apply" in request.POST
        form = MergeChoicesForm(kind, records, request.POST if applying else None)
        if applying and form.is_valid():
            try:
                merge = services.merge_records(actor=request.user, kind=kind, **form.merge_arguments())
            except SERVICE_REFUSALS as exc:
                modeladmin.message_user(request, error_message(exc), level=messages.ERROR)
            else:
                modeladmin.message_user(
                    request,
                    f"Merged {len(records) - 1} record(s) into one. This merge can be undone from its page.",
                    level=messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:merging_merge_change", args=[quote(merge.pk)]))
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Merge {len(records)} {modeladmin.opts.verbose_name_plural}",
            "opts": modeladmin.opts,
            "form": form,
            "records": records,
            "action_name": request.POST.get("action", ""),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, "admin/merging/merge_confirm.html", context)

    merge_selected.short_description = "Merge selected records into one"
    merge_selected.allowed_permissions = ("merge",)
    merge_selected.__name__ = f"merge_selected_{kind}s"
    return merge_selected


def _offer_merging(model, kind: str) -> None:
    """The action on ``model``'s list (registered by a lower app), for managers only."""
    model_admin = admin.site.get_model_admin(model)
    model_admin.actions = [*(model_admin.actions or []), _merge_action(kind)]
    model_admin.has_merge_permission = lambda request: is_manager(request.user)


_offer_merging(Customer, MergeKind.CUSTOMER)
_offer_merging(Lead, MergeKind.LEAD)


@admin.register(Merge)
class MergeAdmin(admin.ModelAdmin):
    """Merges, read-only, for managers; an open merge has an "Undo this merge" button."""

    change_form_template = "admin/crm/change_form.html"
    list_display = ["merged_at", "kind", "survivor", "duplicates", "merged_by", "undone_at"]
    list_filter = ["kind"]
    list_select_related = ["merged_by", "undone_by"]
    date_hierarchy = "merged_at"
    fields = [
        "kind",
        "survivor_id",
        "duplicate_ids",
        "fields",
        "survivor_before",
        "survivor_after",
        "moved_summary",
        "merged_by",
        "merged_at",
        "undone_by",
        "undone_at",
    ]
    readonly_fields = fields

    def has_module_permission(self, request):
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="kept record")
    def survivor(self, merge):
        return str(merge.survivor_id)

    @admin.display(description="merged into it")
    def duplicates(self, merge):
        return len(merge.duplicate_ids)

    @admin.display(description="what moved")
    def moved_summary(self, merge):
        return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in merge.moved_counts().items()) or "-"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="merging_merge_undo",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        merge = self.get_object(request, unquote(object_id))
        buttons = []
        if merge is not None and not merge.is_undone and is_manager(request.user):
            buttons = [("Undo this merge", reverse("admin:merging_merge_undo", args=[quote(merge.pk)]))]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "object_buttons": buttons})

    def undo_view(self, request, object_id):
        merge = self.get_object(request, unquote(object_id))
        if merge is None or not is_manager(request.user):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:merging_merge_change", args=[quote(merge.pk)])
        if request.method == "POST":
            try:
                services.merge_undo(actor=request.user, merge=merge)
            except SERVICE_REFUSALS as exc:
                self.message_user(request, error_message(exc), level=messages.ERROR)
            else:
                self.message_user(request, "The merge was undone: the merged records are back.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Undo this merge: {merge}",
            "opts": self.opts,
            "original": merge,
            "form": forms.Form(),
            "media": self.media,
            "intro": format_html(
                "The {} merged records come back with their ids and values, and what moved to the kept record "
                "moves back. Refused if something moved has changed since.",
                len(merge.duplicate_ids),
            ),
            "submit_label": "Undo this merge",
            "change_url": change_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/crm/object_action_form.html", context)
