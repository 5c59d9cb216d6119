"""The segments domain's default schedule: the nightly refresh of auto-refreshed segments."""

from crm_project.core.schedules import DefaultSchedule

NIGHTLY_REFRESH = DefaultSchedule(
    name="Refresh auto-refreshed segments",
    task="segments.tasks.refresh_auto_segments",
    crontab={"minute": "0", "hour": "2"},
    description="Each night, customers that have come to meet an auto-refreshed segment's criteria join it.",
)
