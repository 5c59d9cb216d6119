"""
Token serializers that close SimpleJWT 5.5.1's gaps:

- a refresh token is single-use: of concurrent refreshes with one token exactly one wins
  (the blacklist row's unique key decides), the others get 401;
- a refresh token dies with a password change (the ``pwv`` claim), like access tokens;
- a refresh token of a deleted or deactivated user is 401, not a 500;
- logout ends the sign-in: every token descending from it stops working at once.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import UntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .serializers import StrictJSONMixin, StrictSerializer
from .tokens import CRMRefreshToken, revoke_sign_in, sign_in_is_revoked, sign_in_of, token_matches_password


def _parse_refresh(raw: str) -> CRMRefreshToken:
    try:
        return CRMRefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from None


def _active_owner(token) -> object:
    """The token's user, if it still exists, is active, has not changed password nor logged out."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not user.is_active:
        raise AuthenticationFailed("No active account found for the given token.", code="no_active_account")
    if not token_matches_password(token, user):
        raise AuthenticationFailed(
            "The password has changed since this token was issued; sign in again.", code="password_changed"
        )
    if sign_in_is_revoked(token):
        raise AuthenticationFailed("This sign-in has ended (logout); sign in again.", code="signed_out")
    return user


def _consume(token: CRMRefreshToken, user) -> None:
    """Blacklist ``token``; raise InvalidToken if another request blacklisted it first."""
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={"user": user, "token": str(token), "expires_at": datetime_from_epoch(token["exp"])},
    )
    try:
        # The savepoint lets the enclosing transaction continue after a lost race.
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        # BlacklistedToken.token is unique: a concurrent refresh with this token won.
        raise InvalidToken("Token is blacklisted.") from None


class TokenObtainSerializer(StrictJSONMixin, TokenObtainPairSerializer):
    token_class = CRMRefreshToken


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class TokenRefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(write_only=True)
    access = serializers.CharField(read_only=True)

    def validate(self, attrs):
        token = _parse_refresh(attrs["refresh"])
        user = _active_owner(token)
        with transaction.atomic():
            _consume(token, user)
            rotated = CRMRefreshToken.for_user(user, sign_in_id=sign_in_of(token))
        return {"access": str(rotated.access_token), "refresh": str(rotated)}


class TokenVerifySerializer(StrictSerializer):
    token = serializers.CharField(write_only=True)

    def validate(self, attrs):
        try:
            token = UntypedToken(attrs["token"])
        except TokenError as exc:
            raise InvalidToken(str(exc)) from None
        if BlacklistedToken.objects.filter(token__jti=token.get(api_settings.JTI_CLAIM)).exists():
            raise InvalidToken("Token is blacklisted.")
        _active_owner(token)
        return {}


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField(write_only=True)

    def validate(self, attrs):
        token = _parse_refresh(attrs["refresh"])
        user_id = token.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        with transaction.atomic():
            _consume(token, user)
            revoke_sign_in(token, user)
        return {}
