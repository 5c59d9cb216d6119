"""
One owner per field: no app writes another app's models. A write is a query-set or manager call
that changes rows (``update``, ``create``, ``delete``...) on a model imported from another app's
``models``; the owning app's services are the way in. (``lint-imports`` holds the direction of
imports; this holds the writes.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["customers", "leads", "opportunities", "communications", "segments", "crm_project/reporting"]
WRITES = {"update", "create", "bulk_create", "bulk_update", "delete", "get_or_create", "update_or_create"}


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in {"customers", "leads", "opportunities", "communications", "segments"} else None


def _foreign_models(tree: ast.Module, app: str) -> set[str]:
    """Names bound to models of other apps: ``from leads.models import Lead``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".models"):
            owner = _app_of(node.module)
            if owner is not None and owner != app:
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _through_a_generic_manager(node: ast.AST) -> bool:
    """``model._default_manager...``: a write to whichever model was passed in, which may be anyone's."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr == "_default_manager":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _writes_to_foreign_models(path: Path, app: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    foreign = _foreign_models(tree, app.split("/")[-1])
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITES
            and (_root_name(node.func.value) in foreign or _through_a_generic_manager(node.func.value))
        ):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:100]}")
    return found


def _modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" not in parts and "migrations" not in parts:
            yield path


@pytest.mark.parametrize("app", APPS)
def test_no_app_writes_another_apps_models(app):
    offences = [offence for path in _modules(app) for offence in _writes_to_foreign_models(path, app)]
    assert offences == []


PROBES = {
    "a model of another app": (
        "from leads.models import Lead\n\n\ndef bump(pk):\n    Lead.objects.filter(pk=pk).update(status='contacted')\n"
    ),
    "whichever model is passed in": (
        "def touch(model, pk, when):\n    model._default_manager.filter(pk=pk).update(last_contacted_at=when)\n"
    ),
}


@pytest.mark.parametrize("source", PROBES.values(), ids=PROBES.keys())
def test_the_check_sees_a_write_to_a_model_the_app_does_not_own(tmp_path, source):
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert len(_writes_to_foreign_models(probe, "communications")) == 1
