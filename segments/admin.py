"""
Segments in the admin. Saves, deletes, membership rows (inlines) and actions all go through
the segment services, so the count stays true and only managers change anything; sales reps
(view permission only) see segments read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet

from crm_project.core.admin import ServiceModelAdmin, add_inline, error_message
from crm_project.core.exceptions import DomainError
from crm_project.core.text import plural
from customers.models import Customer

from . import services
from .models import PRIORITY_MAX, Segment, SegmentMembership
from .selectors import segment_list_visible_to

# A change page with more membership rows than this would be a wall of rows; bigger segments
# are managed from the customer pages (their inline) or through the API's bulk endpoints.
INLINE_MEMBERS_MAX = 300


class MembershipInlineFormSet(BaseInlineFormSet):
    """Membership rows added or deleted in an inline go through the bulk membership services."""

    actor = None  # Set per request by ``get_formset``.

    def _membership(self, form) -> SegmentMembership:
        membership = form.instance
        setattr(membership, self.fk.name, self.instance)  # The page's record, already loaded.
        return membership

    def save_new(self, form, commit=True):
        if not commit:
            return super().save_new(form, commit=False)
        membership = self._membership(form)
        services.segment_assign_customers(
            actor=self.actor, segment=membership.segment, customer_ids=[membership.customer_id]
        )
        return SegmentMembership.objects.get(segment_id=membership.segment_id, customer_id=membership.customer_id)

    def delete_existing(self, obj, commit=True):
        if commit:
            services.segment_remove_customers(actor=self.actor, segment=obj.segment, customer_ids=[obj.customer_id])


class _MembershipInline(admin.TabularInline):
    model = SegmentMembership
    formset = MembershipInlineFormSet
    extra = 0
    readonly_fields = ["added_by", "added_at"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"actor": request.user})

    def has_change_permission(self, request, obj=None):
        # A membership is added or removed, never edited into another one.
        return False


class SegmentMembershipInline(_MembershipInline):
    """The customers of a segment, on the segment's page."""

    fk_name = "segment"
    fields = ["customer", "added_by", "added_at"]
    autocomplete_fields = ["customer"]
    verbose_name = "customer"
    verbose_name_plural = "customers in this segment"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "added_by").order_by("-added_at", "-id")


class CustomerSegmentMembershipInline(_MembershipInline):
    """The segments of a customer, on the customer's admin page (added below)."""

    fk_name = "customer"
    fields = ["segment", "added_by", "added_at"]
    autocomplete_fields = ["segment"]
    verbose_name = "segment"
    verbose_name_plural = "segments"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("segment", "added_by").order_by("segment__priority")


class SegmentAdminForm(forms.ModelForm):
    priority = forms.IntegerField(min_value=0, max_value=PRIORITY_MAX, initial=0, help_text="Lower comes first.")

    class Meta:
        model = Segment
        fields = ["name", "code", "description", "is_active", "priority", "criteria", "benefits"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.validate_segment_values(
                {name: cleaned[name] for name in ("criteria", "benefits") if name in cleaned}
            )
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(Segment)
class SegmentAdmin(ServiceModelAdmin):
    form = SegmentAdminForm
    list_display = ["code", "name", "is_active", "priority", "customer_count", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "description"]
    readonly_fields = ["customer_count", "membership_note", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [SegmentMembershipInline]
    actions = ["recount_customers", "apply_criteria"]
    fieldsets = [
        (None, {"fields": ["name", "code", "description", "is_active", "priority"]}),
        ("Targeting", {"fields": ["criteria", "benefits"]}),
        ("Members", {"fields": ["customer_count", "membership_note"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def visible_queryset(self, request):
        return segment_list_visible_to(request.user)

    def create_record(self, request, data):
        return services.segment_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.segment_update(actor=request.user, segment=obj, data=data)

    def delete_record(self, request, obj):
        services.segment_delete(actor=request.user, segment=obj)

    # Showing a page the user may not see is Django's own 403. ServiceModelAdmin turns refusals
    # into a message and a redirect to the same page: right after a POST, a redirect loop for a
    # GET (a rep opening the add or delete page).
    def get_inline_instances(self, request, obj=None):
        if obj is not None and obj.customer_count > INLINE_MEMBERS_MAX:
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description="Membership")
    def membership_note(self, obj) -> str:
        if obj is not None and obj.customer_count > INLINE_MEMBERS_MAX:
            return (
                f"{obj.customer_count} customers: too many to list here. Change membership on the customers' "
                "pages, or with the API's assign-customers, remove-customers and apply-criteria."
            )
        return "Listed below."

    def get_deleted_objects(self, objs, request):
        # Deleting a segment deletes its membership rows only, never customers: say so in one
        # line per segment instead of loading and listing every row.
        segments = list(objs)
        rows = sum(segment.customer_count for segment in segments)
        summary = [f"{segment} (and its {segment.customer_count} membership rows)" for segment in segments]
        counts = {Segment._meta.verbose_name_plural: len(segments), "segment memberships": rows}
        perms_needed = set() if request.user.has_perm("segments.delete_segmentmembership") else {"segment membership"}
        return summary, counts, perms_needed, []

    # --- actions ------------------------------------------------------------------------------

    @admin.action(description="Recount customers of the selected segments", permissions=["change"])
    def recount_customers(self, request, queryset):
        results = services.segment_recount_all(segment_ids=queryset.values_list("pk", flat=True))
        corrected = [f"{r.code}: {r.old} → {r.new}" for r in results if r.corrected]
        if corrected:
            self.message_user(request, f"Corrected {plural(len(corrected), 'count')}: {'; '.join(corrected)}.")
        else:
            self.message_user(
                request,
                f"All {plural(len(results), 'count')} were already true."
                if len(results) != 1
                else "The count was already true.",
            )

    @admin.action(description="Assign the customers that meet each segment's criteria", permissions=["change"])
    def apply_criteria(self, request, queryset):
        for segment in queryset:
            try:
                result = services.segment_apply_criteria(actor=request.user, segment=segment)
            except (forms.ValidationError, DomainError) as exc:
                self.message_user(request, f"{segment.code}: {error_message(exc)}", level=messages.WARNING)
                continue
            unrecognized = (
                f" (not evaluated: {', '.join(result.unrecognized_criteria)})" if result.unrecognized_criteria else ""
            )
            self.message_user(
                request,
                f"{segment.code}: {result.assigned} assigned, {result.already_assigned} already in it, "
                f"{result.customer_count} in all{unrecognized}.",
            )


# Wired from here, the app above customers: a customer's segments come first on its page.
add_inline(Customer, CustomerSegmentMembershipInline, first=True)
