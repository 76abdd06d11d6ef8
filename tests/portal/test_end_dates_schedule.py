"""What ends on a date runs itself (Def.T, S3.6a, S3.7, S3.11, S5.1a): Celery beat names the task of
each workflow, every hour, on the city's clock, and each name is a registered task."""

from celery.schedules import crontab
from django.conf import settings

from portal.celery import app

END_DATE_TASKS = {
    "accounts.tasks.temporary_grants_daily",
    "agreements.tasks.agreements_daily",
    "external.tasks.external_connections_daily",
    "waivers.tasks.waivers_daily",
    "retention.tasks.retention_daily",
}


def test_every_end_date_task_is_on_the_beat_schedule_every_hour_and_registered():
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    for name in END_DATE_TASKS:
        assert name in entries, f"{name} is not on the beat schedule"
        schedule = entries[name]["schedule"]
        assert isinstance(schedule, crontab) and len(schedule.hour) == 24, f"{name} must run every hour"
        assert name in app.tasks, f"{name} is not a registered task"


def test_the_schedule_keeps_the_city_time_zone():
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
