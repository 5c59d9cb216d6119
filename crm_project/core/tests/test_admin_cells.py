"""The changelist cells that keep a list narrow: cut names with a title, short dates."""

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from crm_project.core.admin import short_date, truncated
from crm_project.core.text import day, day_and_time


def test_a_long_name_is_one_cut_line_with_the_whole_name_as_its_title_escaped():
    assert truncated('<b>Shah & "Sons"</b>') == (
        '<span class="crm-truncate" title="&lt;b&gt;Shah &amp; &quot;Sons&quot;&lt;/b&gt;">'
        "&lt;b&gt;Shah &amp; &quot;Sons&quot;&lt;/b&gt;</span>"
    )
    assert truncated("") == "-"


def test_a_timestamp_shows_its_day_and_its_time_on_hover():
    at = timezone.make_aware(dt.datetime(2025, 12, 15, 10, 30))
    assert short_date(at) == '<span class="crm-date" title="15 Dec 2025 10:30">15 Dec 2025</span>'
    assert short_date(dt.date(2025, 1, 5)) == '<span class="crm-date">5 Jan 2025</span>'
    assert short_date(None) == "-"


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_days_are_the_business_days_of_time_zone():
    late_evening_utc = dt.datetime(2025, 12, 15, 20, 0, tzinfo=dt.UTC)  # 01:30 the next day in India.
    assert day(late_evening_utc) == "16 Dec 2025"
    assert day_and_time(late_evening_utc) == "16 Dec 2025 01:30"
