"""
JWTs that die with the password: every token carries ``pwv``, a keyed hash of the user's
current password hash. Changing the password changes it, so older access and refresh
tokens stop working at once (SimpleJWT alone lets a refresh token outlive the password).
"""

from __future__ import annotations

from rest_framework_simplejwt.tokens import RefreshToken

PASSWORD_VERSION_CLAIM = "pwv"


def password_version(user) -> str:
    # Django's session hash: an HMAC of the password hash under SECRET_KEY, so the claim
    # reveals nothing about the password and cannot be forged.
    return user.get_session_auth_hash()[:20]


def token_matches_password(token, user) -> bool:
    return token.get(PASSWORD_VERSION_CLAIM) == password_version(user)


class CRMRefreshToken(RefreshToken):
    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[PASSWORD_VERSION_CLAIM] = password_version(user)
        return token
