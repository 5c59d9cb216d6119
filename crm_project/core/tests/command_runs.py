"""Running a manage.py command in a test: its output, or the one-line refusal it ends with."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def call(name: str, *args) -> tuple[str, str]:
    """The command's stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(name: str, *args) -> str:
    """The message of the CommandError the command ends with (it must end with one)."""
    with pytest.raises(CommandError) as failure:
        call_command(name, *args, stdout=StringIO(), stderr=StringIO())
    return str(failure.value)
