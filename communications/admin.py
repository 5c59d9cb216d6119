"""
The communications changelist, and read-only inlines that show the newest communications on
the customer, lead and opportunity pages (wired into those apps' admins by their owners).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from crm_project.core.admin import (
    ObjectActionsMixin,
    ServiceModelAdmin,
    add_inline,
    badge,
    error_message,
    short_date,
    truncated,
)
from crm_project.core.exceptions import Conflict
from crm_project.core.text import day_and_time, person_name, plural
from customers.models import Customer
from customers.selectors import customer_list_visible_to
from leads.models import Lead
from leads.selectors import lead_list_visible_to
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_list_visible_to

from . import services
from .models import Communication, CommunicationDirection
from .selectors import communication_list_visible_to, pending_follow_ups

# The related records an admin form may link to: what the user may see (the API's rule).
_VISIBLE_CHOICES = {
    "customer": customer_list_visible_to,
    "lead": lead_list_visible_to,
    "opportunity": opportunity_list_visible_to,
}


class FollowUpStateFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [
            ("due", "Due today or overdue"),
            ("pending", "Pending (not yet due)"),
            ("overdue", "Overdue"),
            ("completed", "Completed"),
            ("none", "None required"),
        ]

    def queryset(self, request, queryset):
        open_follow_up = {"requires_follow_up": True, "follow_up_completed": False}
        match self.value():
            case "due":  # The API's pending follow-ups due by the end of today.
                due = pending_follow_ups(request.user, due_on_or_before=timezone.localdate())
                return queryset.filter(pk__in=due.values("pk"))
            case "pending":
                return queryset.filter(**open_follow_up, follow_up_date__gte=timezone.now())
            case "overdue":
                return queryset.filter(**open_follow_up, follow_up_date__lt=timezone.now())
            case "completed":
                return queryset.filter(follow_up_completed=True)
            case "none":
                return queryset.filter(requires_follow_up=False)
        return queryset


def follow_up_state(communication: Communication) -> str:
    if not communication.requires_follow_up:
        return "—"
    if communication.follow_up_completed:
        return "Completed"
    return "Overdue" if communication.is_overdue else "Pending"


@admin.register(Communication)
class CommunicationAdmin(ObjectActionsMixin, ServiceModelAdmin):
    # Narrow enough for a 1366 px laptop with the filters shown: long subjects and names are
    # cut (whole on hover), dates are short.
    list_display = [
        "subject_line",
        "type",
        "direction_short",
        "date",
        "about",
        "representative",
        "follow_up",
    ]
    list_filter = ["type", "direction", FollowUpStateFilter, ("our_representative", admin.RelatedFieldListFilter)]
    # The two columns with trigram indexes on PostgreSQL, as the API's ``search``.
    search_fields = ["subject", "content"]
    search_help_text = "Part of the subject or the content."
    list_select_related = ["customer", "lead", "opportunity", "our_representative"]
    autocomplete_fields = ["customer", "lead", "opportunity", "our_representative"]
    date_hierarchy = "communication_date"
    readonly_fields = ["follow_up_completed", "follow_up_completed_at", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["subject", "type", "direction", "communication_date", "duration_minutes"]}),
        ("About", {"fields": ["customer", "lead", "opportunity", "contact_person", "our_representative"]}),
        ("Content", {"fields": ["content", "attachments"]}),
        (
            "Follow-up",
            {"fields": ["requires_follow_up", "follow_up_date", "follow_up_completed", "follow_up_completed_at"]},
        ),
        ("History", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]
    actions = ["complete_follow_ups"]

    @admin.display(description="follow-up", ordering="follow_up_date")
    def follow_up(self, communication: Communication) -> str:
        state = follow_up_state(communication)
        if not communication.requires_follow_up:
            return state
        return format_html("{}<br>{}", badge(state.lower(), state), short_date(communication.follow_up_date))

    @admin.display(description="subject", ordering="subject")
    def subject_line(self, communication: Communication) -> str:
        return truncated(communication.subject)

    @admin.display(description="date", ordering="communication_date")
    def date(self, communication: Communication) -> str:
        return short_date(communication.communication_date)

    @admin.display(description="direction", ordering="direction")
    def direction_short(self, communication: Communication) -> str:
        return "In" if communication.direction == CommunicationDirection.INBOUND else "Out"

    @admin.display(description="about")
    def about(self, communication: Communication) -> str:
        """The customer it concerns, else the opportunity, else the lead (all three are joined)."""
        if communication.customer is not None:
            return truncated(communication.customer.company_name)
        if communication.opportunity is not None:
            return truncated(communication.opportunity.name)
        return truncated(communication.lead.company_name) if communication.lead is not None else "-"

    @admin.display(description="representative", ordering="our_representative")
    def representative(self, communication: Communication) -> str:
        user = communication.our_representative
        return truncated(person_name(user)) if user else "-"

    def visible_queryset(self, request):
        return communication_list_visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in _VISIBLE_CHOICES:
            kwargs["queryset"] = _VISIBLE_CHOICES[db_field.name](request.user)
        elif db_field.name == "our_representative":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        # The service's default, shown in the form: the person logging it.
        return {"our_representative": request.user.pk, **super().get_changeform_initial_data(request)}

    # --- completing one follow-up: a button on the change page ------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/complete-follow-up/",
                self.admin_site.admin_view(self.complete_follow_up_view),
                name="communications_communication_complete_follow_up",
            ),
            *super().get_urls(),
        ]

    def object_buttons(self, request, communication):
        if not communication.requires_follow_up or communication.follow_up_completed:
            return []
        url = reverse("admin:communications_communication_complete_follow_up", args=[communication.pk])
        return [("Complete follow-up", url)]

    def complete_follow_up_view(self, request, object_id):
        def complete(communication, data):
            services.communication_complete_follow_up(actor=request.user, communication=communication)
            return f"Follow-up of “{communication.subject}” completed."

        def intro(communication):
            due = communication.follow_up_date
            return f"The follow-up was due {day_and_time(due)}." if due else ""

        return self.object_action_view(
            request,
            object_id,
            title="Complete follow-up",
            submit_label="Complete follow-up",
            form=lambda communication, data: forms.Form(data),  # A confirmation: nothing to fill in.
            perform=complete,
            intro=intro,
        )

    def create_record(self, request, data):
        return services.communication_log(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.communication_update(actor=request.user, communication=obj, data=data)

    def delete_record(self, request, obj):
        services.communication_delete(actor=request.user, communication=obj)

    @admin.action(description="Mark the selected follow-ups as completed")
    def complete_follow_ups(self, request, queryset):
        completed, refused = 0, []
        for communication in queryset:
            try:
                services.communication_complete_follow_up(actor=request.user, communication=communication)
            except (ValidationError, Conflict) as exc:
                refused.append(f"“{communication.subject}”: {error_message(exc)}")
            else:
                completed += 1
        if completed:
            self.message_user(request, f"{plural(completed, 'follow-up')} marked as completed.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not completed: {'; '.join(refused)}", messages.WARNING)


# --- inlines for the customer, lead and opportunity pages -------------------------------------

INLINE_ROW_LIMIT = 20


class NewestCommunicationsFormSet(BaseInlineFormSet):
    """Only the newest ``INLINE_ROW_LIMIT`` rows: a record with 10,000 communications opens fast."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset()[:INLINE_ROW_LIMIT]
        return self._queryset


class CommunicationInline(admin.TabularInline):
    """Read-only, newest first, a "View" link to each communication; rows the user may see only."""

    model = Communication
    formset = NewestCommunicationsFormSet
    fields = ["communication_date", "type", "direction", "subject", "our_representative", "follow_up"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"Communications (the {INLINE_ROW_LIMIT} newest)"

    @admin.display(description="follow-up")
    def follow_up(self, communication: Communication) -> str:
        return follow_up_state(communication)

    def get_queryset(self, request):
        # The representative is the one related object a row shows: joined, not queried per row.
        return (
            communication_list_visible_to(request.user)
            .select_related(None)
            .select_related("our_representative")
            .order_by("-communication_date", "-id")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CustomerCommunicationInline(CommunicationInline):
    fk_name = "customer"


class LeadCommunicationInline(CommunicationInline):
    fk_name = "lead"


class OpportunityCommunicationInline(CommunicationInline):
    fk_name = "opportunity"


# Wired from here, the app above them: the customer, lead and opportunity apps know nothing of
# communications.
add_inline(Customer, CustomerCommunicationInline)
add_inline(Lead, LeadCommunicationInline)
add_inline(Opportunity, OpportunityCommunicationInline)
