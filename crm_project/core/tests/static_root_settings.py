"""The production settings with STATIC_ROOT taken from ``CRM_TEST_STATIC_ROOT``: lets
``test_static_files`` collect and serve static files without touching the project's own
``staticfiles/`` directory."""

import os

from crm_project.settings import *  # noqa: F403

STATIC_ROOT = os.environ["CRM_TEST_STATIC_ROOT"]
