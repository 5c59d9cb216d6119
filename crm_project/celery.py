"""
The Celery application: ``celery -A crm_project worker`` and ``celery -A crm_project beat``.

Settings come from Django's (``CELERY_*`` in settings.py); tasks are found in each app's
``tasks.py``. Every task is thin: ids in, one service call (see crm_project/core/jobs).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

app = Celery("crm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
