"""
In production (DJANGO_DEBUG=0) gunicorn serves the admin's CSS and scripts through whitenoise:
collectstatic, start gunicorn as the README says, and ask it for the files.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """gunicorn with production settings and freshly collected static files; yields its base URL."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    workdir = tmp_path_factory.mktemp("production")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env = {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "crm_project.core.tests.static_root_settings",
        "CRM_TEST_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "static-files-test-" + "k" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{workdir / 'unused.sqlite3'}",
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "crm_project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def test_gunicorn_serves_the_admins_css_in_production(production_server):
    status, headers, body = _get(f"{production_server}/static/admin/css/base.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"--primary" in body


def test_the_admin_pages_link_stylesheets_that_load(production_server):
    status, _headers, body = _get(f"{production_server}/admin/login/")
    assert status == 200
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body.decode())
    # Hashed names from the manifest (cacheable for ever), the CRM's own styles among them.
    assert any(re.search(r"/static/admin/css/base\.[0-9a-f]{12}\.css$", href) for href in stylesheets), stylesheets
    assert any(re.search(r"/static/crm/admin\.[0-9a-f]{12}\.css$", href) for href in stylesheets), stylesheets
    for href in stylesheets:
        status, headers, _body = _get(production_server + href)
        assert status == 200, href
        assert "max-age=315360000" in headers.get("Cache-Control", ""), href
