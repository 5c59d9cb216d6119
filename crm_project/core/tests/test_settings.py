"""Settings come from the environment; production refuses to start without a secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "JWT_", "CORS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DATABASE_URL": "sqlite:////tmp/crm-settings-test.sqlite3", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_secret_key_fails_with_a_clear_error():
    result = run_manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
        DJANGO_ALLOWED_HOSTS="crm.example.com",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_a_bad_boolean_is_refused_at_start_up():
    result = run_manage("check", DJANGO_DEBUG="perhaps")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "UTC|True|False"),
        ({"TIME_ZONE": "Asia/Kolkata"}, "Asia/Kolkata|True|False"),
    ],
)
def test_time_zone_from_the_environment_and_timezone_aware(env, expected):
    code = (
        "from django.conf import settings; "
        "print(settings.TIME_ZONE, settings.USE_TZ, settings.DATABASES['default']['ATOMIC_REQUESTS'], sep='|')"
    )
    result = run_manage("shell", "-c", code, **env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_cors_origins_and_jwt_key_come_from_the_environment():
    code = (
        "from django.conf import settings; from rest_framework_simplejwt.settings import api_settings; "
        "print(settings.CORS_ALLOWED_ORIGINS, api_settings.SIGNING_KEY == settings.SECRET_KEY, sep='|')"
    )
    result = run_manage(
        "shell", "-c", code, CORS_ALLOWED_ORIGINS="https://app.example.com", JWT_SIGNING_KEY="separate-jwt-key"
    )
    assert result.stdout.strip().splitlines()[-1] == "['https://app.example.com']|False", result.stderr


def test_access_token_lifetime_is_configurable_from_the_environment():
    # SimpleJWT reads its settings at import, so override_settings cannot reach them: a
    # fresh process with the variable set is the honest test.
    code = (
        "from rest_framework_simplejwt.settings import api_settings; "
        "print(int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()), "
        "int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()), sep='|')"
    )
    result = run_manage("shell", "-c", code, JWT_ACCESS_TOKEN_MINUTES="5", JWT_REFRESH_TOKEN_DAYS="2")
    assert result.stdout.strip().splitlines()[-1] == f"{5 * 60}|{2 * 86400}", result.stderr
