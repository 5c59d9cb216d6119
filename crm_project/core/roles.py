"""
Roles: two Django groups created by a data migration, plus superusers acting as managers.

The role is read once per request: the API's authentication annotates it on the user
(see ``api/authentication.py``), and ``role_of`` falls back to one query otherwise.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

SALES_REP = "sales_rep"
SALES_MANAGER = "sales_manager"
ADMIN = "admin"
NO_ROLE = "none"

ROLE_GROUPS = (SALES_MANAGER, SALES_REP)


def role_of(user: Any) -> str:
    """``admin``, ``sales_manager``, ``sales_rep`` or ``none`` (also for anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ROLE
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_crm_role", None)
    if cached is not None:
        return cached
    names = set(user.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
    role = SALES_MANAGER if SALES_MANAGER in names else SALES_REP if SALES_REP in names else NO_ROLE
    user._crm_role = role
    return role


def is_manager(user: Any) -> bool:
    """Managers and superusers see and change everything."""
    return role_of(user) in (ADMIN, SALES_MANAGER)


def is_sales_rep(user: Any) -> bool:
    return role_of(user) == SALES_REP


def has_crm_role(user: Any) -> bool:
    return role_of(user) != NO_ROLE


def system_actor():
    """
    The actor of a command run without ``--as`` and of scheduled work: sees and may change
    everything (a manager's scope), and is recorded as nobody (``created_by`` stays empty,
    notes are signed "system").
    """
    return get_user_model()(username="system", is_active=True, is_superuser=True)


def crm_users() -> QuerySet:
    """Active users with a CRM role (superusers, sales managers, sales reps), by username."""
    User = get_user_model()
    in_a_role = User.groups.through.objects.filter(group__name__in=ROLE_GROUPS).values("user_id")
    return User.objects.filter(Q(is_superuser=True) | Q(pk__in=in_a_role), is_active=True).order_by("username")


def check_crm_user(user: Any, *, field: str | None) -> None:
    """
    A record can be given only to someone who can see it: an assignee, owner, representative
    or account manager must be an active user with a CRM role (400 naming ``field``, if any).
    """
    if user is not None and not (user.is_active and has_crm_role(user)):
        message = f"{user.get_username()} is not an active sales rep or sales manager; choose one who is."
        raise ValidationError({field: message} if field else message)


# Model permissions of each role: what the admin offers it at all. Record-level rules
# (whose lead a rep sees) live in each domain's selectors and services.
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    SALES_MANAGER: {
        "auth": {"user": ("view",)},
        "core": {"job": ("view",)},
        # The schedules of the periodic work (the morning digest, the nightly refresh...).
        "django_celery_beat": {
            "periodictask": ("view", "add", "change", "delete"),
            "crontabschedule": ("view", "add", "change", "delete"),
            "intervalschedule": ("view", "add", "change", "delete"),
        },
        "customers": {"customer": ("view", "add", "change", "delete")},
        "leads": {"lead": ("view", "add", "change", "delete")},
        "opportunities": {
            "opportunity": ("view", "add", "change", "delete"),
            "opportunitystagechange": ("view",),
            "quota": ("view", "add", "change", "delete"),
            "forecastsnapshot": ("view",),
        },
        "communications": {"communication": ("view", "add", "change", "delete")},
        "segments": {
            "segment": ("view", "add", "change", "delete"),
            "segmentmembership": ("view", "add", "change", "delete"),
        },
    },
    # Reps work their own leads, deals and communications and read customers' segments;
    # only managers delete leads, opportunities and customers or touch segments.
    # ``view_user`` lets the admin's user pickers (autocomplete) work for them.
    SALES_REP: {
        "auth": {"user": ("view",)},
        "core": {"job": ("view",)},
        "customers": {"customer": ("view", "add", "change")},
        "leads": {"lead": ("view", "add", "change")},
        "opportunities": {
            "opportunity": ("view", "add", "change"),
            "opportunitystagechange": ("view",),
            "quota": ("view",),
        },
        "communications": {"communication": ("view", "add", "change", "delete")},
        "segments": {"segment": ("view",), "segmentmembership": ("view",)},
    },
}


def grant_role_permissions(apps) -> None:
    """
    Create the role groups if missing and give them their permissions (idempotent; never
    removes a permission a manager granted by hand). ``apps`` is a migration's historical
    registry or the live one.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, spec in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        wanted = [
            Permission.objects.filter(content_type__app_label=app_label, codename__in=[f"{a}_{model}" for a in actions])
            for app_label, models in spec.items()
            for model, actions in models.items()
        ]
        for permissions in wanted:
            group.permissions.add(*permissions)
