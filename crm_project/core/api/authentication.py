"""
Bearer JWT authentication that reads the user, their CRM role and whether the token's sign-in
has ended (logout), in one query.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from crm_project.core.models import RevokedSignIn
from crm_project.core.roles import NO_ROLE, SALES_MANAGER, SALES_REP

from .tokens import sign_in_of, token_matches_password


def users_with_roles():
    """Users annotated with their group memberships, so ``role_of`` needs no extra query."""
    User = get_user_model()
    memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    return User.objects.annotate(
        _in_manager_group=Exists(memberships.filter(group__name=SALES_MANAGER)),
        _in_rep_group=Exists(memberships.filter(group__name=SALES_REP)),
    )


def remember_role(user) -> None:
    user._crm_role = SALES_MANAGER if user._in_manager_group else SALES_REP if user._in_rep_group else NO_ROLE


class CRMJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification.") from None
        users = users_with_roles()
        sign_in_id = sign_in_of(validated_token)
        if sign_in_id is not None:
            users = users.annotate(_signed_out=Exists(RevokedSignIn.objects.filter(sign_in_id=sign_in_id)))
        try:
            user = users.get(**{api_settings.USER_ID_FIELD: user_id})
        except (get_user_model().DoesNotExist, ValueError, TypeError):
            raise AuthenticationFailed("User not found.", code="user_not_found") from None
        if not user.is_active:
            raise AuthenticationFailed("User is inactive.", code="user_inactive")
        if getattr(user, "_signed_out", False):
            raise AuthenticationFailed("This sign-in has ended (logout); sign in again.", code="signed_out")
        if not token_matches_password(validated_token, user):
            raise AuthenticationFailed(
                "The password has changed since this token was issued; sign in again.",
                code="password_changed",
            )
        remember_role(user)
        return user
