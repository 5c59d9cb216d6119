"""The communications domain's default schedule: the morning follow-up digest."""

from django.conf import settings

from crm_project.core.schedules import DefaultSchedule

MORNING_DIGEST = DefaultSchedule(
    name="Morning follow-up digest",
    task="communications.tasks.send_follow_up_digests",
    # FOLLOW_UP_DIGEST_HOUR in TIME_ZONE, working days; managers change it in the admin.
    crontab={"minute": "0", "hour": str(settings.FOLLOW_UP_DIGEST_HOUR), "day_of_week": "1-5"},
    description="Each working morning, every representative gets their own follow-ups of the day by e-mail.",
)
