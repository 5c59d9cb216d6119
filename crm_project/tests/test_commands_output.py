"""
Every ``manage.py`` command ends quietly when the reader of its output goes away
(``manage.py followups_digest | head -3``): no traceback, whatever the command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = ("crm_project", "customers", "leads", "opportunities", "communications", "segments")
# Commands of ours, plus one of Django's: the behaviour is manage.py's, so it holds for all.
COMMANDS = [*sorted(name for name, app in get_commands().items() if app.startswith(OUR_APPS)), "diffsettings"]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    database = tmp_path_factory.mktemp("db") / "commands.sqlite3"
    environment = {
        **{name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "CRM_BENCHMARK")},
        "DATABASE_URL": f"sqlite:///{database}",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    return environment


def run_with_the_reader_gone(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # The reader goes away before the command writes a line.
    try:
        errors = process.stderr.read().decode()
        return process.wait(timeout=120), errors
    finally:
        process.kill()


def test_every_command_of_ours_is_checked():
    assert {"followups_digest", "export_leads", "seed_demo", "prune_expired"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_whose_reader_goes_away_ends_without_a_traceback(env, command):
    _status, errors = run_with_the_reader_gone(env, command)
    assert "Traceback" not in errors, errors
    assert "BrokenPipeError" not in errors, errors
