"""The opportunities domain's default schedule: the daily forecast snapshot."""

from crm_project.core.schedules import DefaultSchedule

DAILY_FORECAST_SNAPSHOT = DefaultSchedule(
    name="Take the daily forecast snapshot",
    task="opportunities.tasks.take_forecast_snapshot",
    # Just after midnight: the snapshot of a month's first day is the month's forecast as it began.
    crontab={"minute": "5", "hour": "0"},
    description="Each day, the forecast figures of every owner for the next 12 months, kept so that a past "
    "period shows its forecast against what was won.",
)
