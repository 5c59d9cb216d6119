"""
JWTs that die with the password and with logout.

- ``pwv``: a keyed hash of the user's current password hash. Changing the password changes
  it, so older access and refresh tokens stop working at once (SimpleJWT alone lets a refresh
  token outlive the password).
- ``sid``: the id of the sign-in a token descends from. Signing in starts a sign-in; each
  refresh passes its id on to the new pair. Logout records the sign-in as ended
  (``RevokedSignIn``), which ends every token of it at once, access tokens included. The
  check rides on the query that authentication makes anyway (``authentication.py``).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from crm_project.core.models import RevokedSignIn

PASSWORD_VERSION_CLAIM = "pwv"
SIGN_IN_CLAIM = "sid"


def password_version(user) -> str:
    # Django's session hash: an HMAC of the password hash under SECRET_KEY, so the claim
    # reveals nothing about the password and cannot be forged.
    return user.get_session_auth_hash()[:20]


def token_matches_password(token, user) -> bool:
    return token.get(PASSWORD_VERSION_CLAIM) == password_version(user)


def sign_in_of(token) -> str | None:
    """The sign-in a token descends from (None for tokens issued before sign-ins were tracked)."""
    return token.get(SIGN_IN_CLAIM)


def sign_in_is_revoked(token) -> bool:
    sign_in_id = sign_in_of(token)
    return sign_in_id is not None and RevokedSignIn.objects.filter(sign_in_id=sign_in_id).exists()


def revoke_sign_in(token, user) -> None:
    """End the sign-in ``token`` descends from: none of its tokens is accepted any more."""
    sign_in_id = sign_in_of(token)
    if sign_in_id is None or user is None:
        return
    # Kept until the last token of the sign-in has expired: the refresh token presented, or
    # an access token issued just now.
    expires_at = max(
        datetime_from_epoch(token["exp"]), timezone.now() + api_settings.ACCESS_TOKEN_LIFETIME + timedelta(minutes=1)
    )
    RevokedSignIn.objects.get_or_create(sign_in_id=sign_in_id, defaults={"user": user, "expires_at": expires_at})


class CRMRefreshToken(RefreshToken):
    @classmethod
    def for_user(cls, user, *, sign_in_id: str | None = None):
        """A refresh token of ``sign_in_id``, or of a new sign-in (identified by this token's id)."""
        token = super().for_user(user)
        token[PASSWORD_VERSION_CLAIM] = password_version(user)
        token[SIGN_IN_CLAIM] = sign_in_id or token[api_settings.JTI_CLAIM]
        return token
