"""Demo opportunities for ``seed_demo`` (filled in by the opportunities issue)."""

from __future__ import annotations

from crm_project.core.demo import DemoContext


def seed(ctx: DemoContext) -> str:
    return ""
