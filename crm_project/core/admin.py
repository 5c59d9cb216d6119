"""
The admin's bridge to the services: saves and deletes made in the admin go through the
same service functions as the API. A refused save comes back as errors on the form the user
filled in (their input kept); a refused delete or bulk action as an admin message.

Also here: the pages of a change page's transition buttons (``ObjectActionsMixin``), the
changelist cells that keep a list within a laptop's width (``truncated``, ``short_date``,
``money``), and the paginator that keeps big changelists fast on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import contextmanager

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from crm_project.core.exceptions import DomainError
from crm_project.core.history import history_of
from crm_project.core.history_words import in_words
from crm_project.core.jobs.registry import kind_of
from crm_project.core.jobs.selectors import job_list_visible_to
from crm_project.core.jobs.services import job_cancel
from crm_project.core.models import Job, JobStatus
from crm_project.core.text import day, day_and_time, person_name, plural

# The reasons of a possible duplicate, in words.
REASON_WORDS = {
    "same_email": "same e-mail",
    "same_phone": "same phone",
    "same_email_domain": "same e-mail domain",
    "similar_company_name": "similar company name",
    "similar_contact_name": "similar contact name",
}
DUPLICATES_IN_WARNING = 5

# What a service raises to refuse: shown to the admin user, never a server error.
SERVICE_REFUSALS = (ValidationError, DomainError, PermissionDenied)


def add_inline(model: type[models.Model], inline: type[admin.options.InlineModelAdmin], *, first: bool = False) -> None:
    """
    Show ``inline`` on the admin page of ``model``, registered by a lower app. The app that owns
    the inline's model calls this from its own ``admin.py`` (communications on the customer
    page), so the lower app never imports the higher one. Apps' admin modules load in
    INSTALLED_APPS order, lower domains first, so ``model``'s admin is registered by then.
    """
    model_admin = admin.site.get_model_admin(model)
    model_admin.inlines = [inline, *model_admin.inlines] if first else [*model_admin.inlines, inline]


def error_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        return " ".join(exc.messages)
    if isinstance(exc, DomainError):
        return exc.message
    return str(exc) or "You do not have permission to do this."


def money(value) -> str:
    """1234567.5 → "1,234,567.50" (a changelist column; the admin shows no thousands separators)."""
    return "-" if value is None else f"{value:,.2f}"


def badge(value: str, label: str) -> str:
    """A coloured label for a status, stage or priority (styles in ``static/crm/admin.css``)."""
    return format_html('<span class="crm-badge crm-badge--{}">{}</span>', value, label)


def truncated(text: str) -> str:
    """
    A long name on one line, cut with an ellipsis where its column ends, the whole of it on
    hover (``.crm-truncate`` in ``static/crm/admin.css`` sets how wide a column may grow).
    """
    if not text:
        return "-"
    return format_html('<span class="crm-truncate" title="{}">{}</span>', text, text)


def short_date(value: dt.date | dt.datetime | None) -> str:
    """A date column's cell: ``15 Dec 2025``, never wrapped; a timestamp's time on hover."""
    if value is None:
        return "-"
    if not isinstance(value, dt.datetime):
        return format_html('<span class="crm-date">{}</span>', day(value))
    return format_html('<span class="crm-date" title="{}">{}</span>', day_and_time(value), day(value))


class ServiceRefused(Exception):
    """A service refused an admin save or delete; carries the service's own exception."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


def refusal_errors(exc: Exception, form_fields) -> list[tuple[str | None, list[str]]]:
    """
    ``(form field or None, messages)`` pairs for a service's refusal. Services name fields as
    the API does (``owner_id``); the admin form calls it ``owner``. A name the form does not
    have becomes a form-wide error that still says which field it is about.
    """
    if not (isinstance(exc, ValidationError) and hasattr(exc, "error_dict")):
        return [(None, [error_message(exc)])]
    pairs = []
    for name, texts in exc.message_dict.items():
        field = name.removesuffix("_id") if name.removesuffix("_id") in form_fields else name
        if field in form_fields:
            pairs.append((field, texts))
        elif name == NON_FIELD_ERRORS:
            pairs.append((None, texts))
        else:
            pairs.append((None, [f"{name}: {text}" for text in texts]))
    return pairs


def _form_with_refusal(form_class, refusal: Exception):
    """``form_class``, failing validation with the service's refusal on the matching fields."""

    class RefusedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            for field, texts in refusal_errors(refusal, self.fields):
                self.add_error(field, texts)
            return cleaned

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


# The refusal of a first attempt at saving, kept on the request for the second pass that
# shows it on the form (see ServiceModelAdmin.changeform_view).
_REFUSAL = "_crm_service_refusal"


@contextmanager
def _refusals_reported():
    # Only refusals raised by the services are turned into messages: the admin's own
    # PermissionDenied (no permission for the page at all) must stay a 403.
    try:
        yield
    except SERVICE_REFUSALS as exc:
        raise ServiceRefused(exc) from exc


# --- transition pages ------------------------------------------------------------------------


class ObjectActionsMixin:
    """
    Transitions that ask for a few details (qualify or convert a lead, close an opportunity,
    complete a follow-up): buttons on the change page, each opening a page of its own with a
    small form that, once valid, is handed to one service call.

    The admin lists its buttons in ``object_buttons`` and registers a view per action (in
    ``get_urls``) that returns ``object_action_view(...)``. The buttons and the pages are
    offered only to a user who may change the object, as the change form itself is.
    """

    change_form_template = "admin/crm/change_form.html"
    object_action_template = "admin/crm/object_action_form.html"

    def object_buttons(self, request, obj) -> list[tuple[str, str]]:
        """``(label, url)`` of the transitions open to ``obj`` now."""
        return []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        buttons = []
        if obj is not None and self.has_change_permission(request, obj):
            buttons = self.object_buttons(request, obj)
        extra_context = {**(extra_context or {}), "object_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(
        self,
        request,
        object_id: str,
        *,
        title: str,
        submit_label: str,
        form: Callable[[models.Model, dict | None], forms.Form],
        perform: Callable[[models.Model, dict], str],
        intro: Callable[[models.Model], str] | None = None,
    ):
        """
        One transition's page. ``form(obj, data)`` builds the form (``data`` is the POST, or
        ``None`` to show it empty); ``perform(obj, cleaned_data)`` calls the service and returns
        the message shown back on the object's page. A refusal by the service is shown as an
        error message above the form, with what the user typed kept (or, for a confirmation
        without fields, on the object's page).
        """
        obj = self.get_object(request, unquote(object_id))
        if obj is None:  # Missing, or hidden from this user: the admin's usual answer.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, obj):  # Final already, or no right to change it.
            raise PermissionDenied
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(obj.pk)],
            current_app=self.admin_site.name,
        )
        bound = form(obj, request.POST if request.method == "POST" else None)
        if request.method == "POST" and bound.is_valid():
            try:
                done = perform(obj, bound.cleaned_data)
            except SERVICE_REFUSALS as exc:
                self.message_user(request, error_message(exc), level=messages.ERROR)
                if not bound.fields:  # A bare confirmation has nothing to correct: back to the object.
                    return HttpResponseRedirect(change_url)
            else:
                self.message_user(request, done, level=messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {obj}",
            "opts": self.opts,
            "original": obj,
            "form": bound,
            "media": self.media + bound.media,
            "intro": intro(obj) if intro else "",
            "submit_label": submit_label,
            "change_url": change_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_action_template, context)


# --- counting big changelists ---------------------------------------------------------------

# Below this many rows an exact COUNT(*) takes a few milliseconds (100,000 leads: ~15 ms).
ESTIMATE_COUNTS_ABOVE = 50_000


def planner_row_estimate(queryset) -> int | None:
    """
    PostgreSQL's own estimate of the rows of an unfiltered ``queryset`` (``pg_class.reltuples``,
    kept by autovacuum and ANALYZE), read in one cheap catalogue query; ``None`` when there is
    no trustworthy estimate: another database, a filter, a join that can multiply rows, or a
    table never analysed.
    """
    query = queryset.query
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or query.where or query.distinct or query.combinator or query.is_sliced:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """
    Exact counts, except for an unfiltered list of a big table on PostgreSQL, where the
    planner's estimate stands in for a COUNT(*) that would read every row on every page
    load. Filtered lists (a rep's own records, a search, a filter) are counted exactly.
    The changelist says "about" before an estimated count (``admin/pagination.html``).
    """

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        estimate = planner_row_estimate(self.object_list) if hasattr(self.object_list, "query") else None
        if estimate is not None and estimate > ESTIMATE_COUNTS_ABOVE:
            self.count_is_estimate = True
            return estimate
        return super().count


class ServiceModelAdmin(admin.ModelAdmin):
    """
    Subclasses implement ``create_record``, ``update_record`` and ``delete_record`` with one
    service call each, and ``visible_queryset`` with the domain's visibility selector.
    """

    show_full_result_count = False  # No second full-table COUNT on every changelist load.
    paginator = EstimatedCountPaginator
    # Transition buttons (ObjectActionsMixin) and the record's latest changes below its form.
    change_form_template = "admin/crm/change_form.html"
    history_template = "admin/crm/record_history.html"
    # The newest changes shown on a record's page; all of them on its History page, by pages.
    # Off for what the CRM keeps no history of (webhook subscriptions).
    shows_history = True
    changes_on_record_page = 10
    changes_per_history_page = 100
    # A website typed without a scheme means https (Django 6's default, opted into now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # The field a record is known by in the list of its possible duplicates (``find_duplicates``).
    duplicate_number_field = ""

    def visible_queryset(self, request):
        raise NotImplementedError

    def find_duplicates(self, request, obj) -> list[dict] | None:
        """
        The record's likely duplicates among those the user may see (the domain's selector),
        shown on its page and warned of when it is added; ``None`` for records not matched.
        """
        return None

    def create_record(self, request, data: dict):
        raise NotImplementedError

    def update_record(self, request, obj, data: dict):
        raise NotImplementedError

    def delete_record(self, request, obj) -> None:
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = self.visible_queryset(request)
        if isinstance(self.list_select_related, (list, tuple)):
            # The changelist applies list_select_related only to a queryset that joins
            # nothing yet, and the visibility selectors already join what the API needs.
            queryset = queryset.select_related(*self.list_select_related)
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
        if not change:
            self._warn_of_duplicates(request, saved)

    # --- possible duplicates (``core/duplicates.py``) -----------------------------------------

    def _duplicate_rows(self, request, obj) -> list[dict] | None:
        candidates = self.find_duplicates(request, obj)
        if candidates is None:
            return None
        return [
            {
                **candidate,
                "number": candidate[self.duplicate_number_field],
                "url": reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[quote(candidate["id"])],
                ),
                "percent": round(candidate["score"] * 100),
                "why": ", ".join(REASON_WORDS[reason] for reason in candidate["reasons"]),
            }
            for candidate in candidates
        ]

    def _warn_of_duplicates(self, request, obj) -> None:
        """A new record that looks like existing ones is saved (it may be right), with a warning naming them."""
        rows = self._duplicate_rows(request, obj)
        if not rows:
            return
        shown = rows[:DUPLICATES_IN_WARNING]
        links = format_html_join(
            "; ",
            '<a href="{}">{} {}</a> ({})',
            ((row["url"], row["number"], row["company_name"], row["why"]) for row in shown),
        )
        more = f" and {plural(len(rows) - len(shown), 'more')}" if len(rows) > len(shown) else ""
        self.message_user(
            request,
            format_html(
                "{} may already be here: {}{}. Its page lists its possible duplicates; check them before going on.",
                obj,
                links,
                more,
            ),
            level=messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        # Inline rows saved through services (segment membership) are refused like the form.
        with _refusals_reported():
            super().save_related(request, form, formsets, change)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        return form if refusal is None else _form_with_refusal(form, refusal)

    def delete_model(self, request, obj):
        with _refusals_reported():
            self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        with _refusals_reported():
            for obj in queryset:
                self.delete_record(request, obj)

    # --- the record's history, in words (``core/history_words.py``) ---------------------------

    def _history(self, obj) -> QuerySet:
        return history_of(record_type=self.model._meta.model_name, record_id=obj.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None and not add:
            duplicates = self._duplicate_rows(request, obj)
            if duplicates is not None:
                context = {**context, "shows_duplicates": True, "record_duplicates": duplicates}
        if self.shows_history and obj is not None and obj.pk is not None:
            latest = list(self._history(obj)[: self.changes_on_record_page + 1])
            context = {
                **context,
                "shows_history": True,
                "record_history": in_words(self.model, latest[: self.changes_on_record_page]),
                "record_history_more": len(latest) > self.changes_on_record_page,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        """Django's History page, showing the CRM's history of the record (all of it, in words)."""
        if not self.shows_history:
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        page = Paginator(self._history(obj), self.changes_per_history_page).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "record_history": in_words(self.model, page.object_list),
            "page": page,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)

    def _refused(self, request, refusal: ServiceRefused):
        self.message_user(request, error_message(refusal.cause), level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refusal:
            # The service refused at save time; the view's transaction rolled everything back.
            # The same POST is processed again with the refusal as the form's own errors: the
            # page comes back with what the user typed and the reason beside the field.
            if request.method != "POST" or hasattr(request, _REFUSAL):
                return self._refused(request, refusal)
            setattr(request, _REFUSAL, refusal.cause)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refusal:  # Cannot happen (the form is invalid now): be safe.
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


# --- background jobs ------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """
    The Jobs page: imports, exports, digests and refreshes with their progress. Read-only: jobs
    are asked for through the API, the commands and the schedules; cancelling goes through the
    service. A rep sees their own jobs, a manager every job.
    """

    list_display = ["kind_label", "status_badge", "progress_bar", "asked_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    list_per_page = 50
    date_hierarchy = "created_at"
    actions = ["cancel_jobs"]
    fields = [
        "kind",
        "status",
        "progress_bar",
        "asked_by",
        "params",
        "result",
        "error_list",
        "failure",
        "download",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return job_list_visible_to(request.user).select_related("owner")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="job", ordering="kind")
    def kind_label(self, job: Job) -> str:
        try:
            return kind_of(job.kind).label
        except LookupError:
            return job.kind

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: Job) -> str:
        return badge(f"job-{job.status}", job.get_status_display())

    @admin.display(description="progress")
    def progress_bar(self, job: Job) -> str:
        if job.total:
            percent = min(100, round(100 * job.done / job.total))
            return format_html(
                '<progress class="crm-progress" value="{}" max="{}"></progress> {} of {} ({}%)',
                job.done,
                job.total,
                f"{job.done:,}",
                f"{job.total:,}",
                percent,
            )
        return f"{job.done:,}" if job.done else "-"

    @admin.display(description="asked by")
    def asked_by(self, job: Job) -> str:
        return person_name(job.owner) if job.owner_id else "the schedule"

    @admin.display(description="errors")
    def error_list(self, job: Job) -> str:
        if not job.errors:
            return "-"
        rows = format_html_join(
            "",
            "<li>{}{}: {}</li>",
            ((f"row {e['row']}, " if e.get("row") else "", e["field"], e["message"]) for e in job.errors[:200]),
        )
        more = f" (the first 200 of {len(job.errors):,})" if len(job.errors) > 200 else ""
        return format_html("<ul class='crm-job-errors'>{}</ul>{}", rows, more)

    @admin.display(description="file")
    def download(self, job: Job) -> str:
        if job.status != JobStatus.SUCCEEDED or not job.output_file:
            return "-"
        return format_html('<a href="{}">Download the CSV</a>', reverse("job-download", kwargs={"pk": job.pk}))

    @admin.action(description="Cancel the selected jobs (queued or running)")
    def cancel_jobs(self, request, queryset):
        cancelled, refused = 0, []
        for job in queryset:
            try:
                job_cancel(actor=request.user, job=job)
            except DomainError as exc:
                refused.append(f"{job.kind}: {exc.message}")
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"{plural(cancelled, 'job')} cancelled.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not cancelled: " + " ".join(refused), messages.WARNING)


# The webhook pages live in their own module; imported here, where the admin looks for them.
from crm_project.core import admin_webhooks  # noqa: E402, F401
