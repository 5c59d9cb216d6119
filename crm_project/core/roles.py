"""
Roles: two Django groups created by a data migration, plus superusers acting as managers.

The role is read once per request: the API's authentication annotates it on the user
(see ``api/authentication.py``), and ``role_of`` falls back to one query otherwise.
"""

from __future__ import annotations

from typing import Any

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
