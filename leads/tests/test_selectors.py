import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from crm_project.core.roles import role_of
from leads.models import LeadSource, LeadStatus
from leads.selectors import (
    lead_analytics_summary,
    lead_assignable_users,
    lead_follow_ups_due_today,
    lead_list_visible_to,
)

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def at(*args, tz=UTC) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


# --- visibility -------------------------------------------------------------------------------------


def test_each_persona_sees_the_leads_of_the_contract(manager, superuser, rep, other_rep, no_role_user):
    mine, pooled, theirs = (
        LeadFactory(assigned_to=rep),
        LeadFactory(assigned_to=None),
        LeadFactory(assigned_to=other_rep),
    )
    managed = LeadFactory(assigned_to=manager)

    assert set(lead_list_visible_to(manager)) == {mine, pooled, theirs, managed}
    assert set(lead_list_visible_to(superuser)) == {mine, pooled, theirs, managed}
    assert set(lead_list_visible_to(rep)) == {mine, pooled}
    assert set(lead_list_visible_to(other_rep)) == {theirs, pooled}
    assert list(lead_list_visible_to(no_role_user)) == []


def test_assignable_users_are_the_sales_staff_for_a_manager_and_only_themselves_for_a_rep(
    manager, rep, other_rep, no_role_user, superuser
):
    assert set(lead_assignable_users(manager)) == {manager, rep, other_rep, superuser}
    assert list(lead_assignable_users(rep)) == [rep]
    assert list(lead_assignable_users(no_role_user)) == []


# --- follow-ups ---------------------------------------------------------------------------------------


@pytest.fixture
def today_is_dec_15():
    with mock.patch("leads.selectors.timezone.localdate", return_value=dt.date(2025, 12, 15)):
        yield


def test_follow_ups_today_are_the_open_leads_due_today_soonest_first(manager, today_is_dec_15):
    late = LeadFactory(next_follow_up_date=at(2025, 12, 15, 23, 59))
    early = LeadFactory(next_follow_up_date=at(2025, 12, 15, 0, 0), status=LeadStatus.QUALIFIED)
    LeadFactory(next_follow_up_date=at(2025, 12, 14, 23, 59))  # overdue
    LeadFactory(next_follow_up_date=at(2025, 12, 16, 0, 0))  # tomorrow
    LeadFactory(next_follow_up_date=at(2025, 12, 15, 9), status=LeadStatus.CONVERTED)
    LeadFactory(next_follow_up_date=at(2025, 12, 15, 9), status=LeadStatus.LOST)
    LeadFactory(next_follow_up_date=None)

    assert list(lead_follow_ups_due_today(manager)) == [early, late]


def test_include_overdue_adds_earlier_open_leads(manager, today_is_dec_15):
    today = LeadFactory(next_follow_up_date=at(2025, 12, 15, 10))
    overdue = LeadFactory(next_follow_up_date=at(2025, 11, 1, 10), status=LeadStatus.CONTACTED)
    LeadFactory(next_follow_up_date=at(2025, 11, 1, 10), status=LeadStatus.LOST)
    LeadFactory(next_follow_up_date=at(2025, 12, 20, 10))

    assert list(lead_follow_ups_due_today(manager, include_overdue=True)) == [overdue, today]


def test_today_is_the_day_in_the_configured_time_zone(manager, settings, today_is_dec_15):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30
    just_today = LeadFactory(next_follow_up_date=at(2025, 12, 14, 18, 30))  # 00:00 on the 15th in Kolkata
    LeadFactory(next_follow_up_date=at(2025, 12, 14, 18, 29))  # 23:59 on the 14th in Kolkata
    LeadFactory(next_follow_up_date=at(2025, 12, 15, 18, 30))  # 00:00 on the 16th in Kolkata

    assert list(lead_follow_ups_due_today(manager)) == [just_today]


def test_a_reps_follow_ups_are_only_the_leads_they_may_see(rep, other_rep, today_is_dec_15):
    due = at(2025, 12, 15, 10)
    mine, pooled = LeadFactory(assigned_to=rep, next_follow_up_date=due), LeadFactory(next_follow_up_date=due)
    LeadFactory(assigned_to=other_rep, next_follow_up_date=due)

    assert set(lead_follow_ups_due_today(rep)) == {mine, pooled}
    assert list(lead_follow_ups_due_today(rep, assigned_to_id=rep.pk)) == [mine]


# --- analytics ----------------------------------------------------------------------------------------


@pytest.fixture
def january(db):
    """
    Five leads created in January 2025 (both edges included), two outside it.
    Converted: 2 of 5 (40.00 %), after 2 days and after 0.5 days: 1.25 days on average.
    """
    return {
        "first_instant": LeadFactory(created_at=at(2025, 1, 1, 0, 0), source=LeadSource.WEBSITE),
        "converted_in_2_days": LeadFactory(
            created_at=at(2025, 1, 10, 9),
            status=LeadStatus.CONVERTED,
            converted_at=at(2025, 1, 12, 9),
            source=LeadSource.REFERRAL,
        ),
        "converted_in_half_a_day": LeadFactory(
            created_at=at(2025, 1, 20, 12),
            status=LeadStatus.CONVERTED,
            converted_at=at(2025, 1, 21, 0),
            source=LeadSource.WEBSITE,
        ),
        "qualified": LeadFactory(created_at=at(2025, 1, 15), status=LeadStatus.QUALIFIED, source=LeadSource.EMAIL),
        "last_instant": LeadFactory(
            created_at=at(2025, 1, 31, 23, 59, 59, 999999), status=LeadStatus.LOST, source=LeadSource.PHONE
        ),
        "december": LeadFactory(
            created_at=at(2024, 12, 31, 23, 59, 59, 999999),
            status=LeadStatus.CONVERTED,
            converted_at=at(2025, 1, 30),
        ),
        "february": LeadFactory(created_at=at(2025, 2, 1, 0, 0)),
    }


def test_analytics_over_a_hand_computed_month(manager, january, django_assert_num_queries):
    role_of(manager)  # Read once per request by the API's authentication; not part of the count.
    with django_assert_num_queries(1):
        summary = lead_analytics_summary(manager, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))

    assert summary == {
        "total_leads": 5,
        "by_status": {"new": 1, "contacted": 0, "qualified": 1, "converted": 2, "lost": 1},
        "by_source": {
            "website": 2,
            "referral": 1,
            "phone": 1,
            "email": 1,
            "trade_show": 0,
            "social_media": 0,
            "advertisement": 0,
            "cold_call": 0,
            "partner": 0,
            "other": 0,
        },
        "conversion_rate": 40.0,
        "average_time_to_convert_days": 1.25,
    }


def test_analytics_without_dates_counts_every_lead(manager, january):
    summary = lead_analytics_summary(manager)
    assert summary["total_leads"] == 7
    assert summary["conversion_rate"] == 42.86  # 3 / 7
    # (2 + 0.5 + 29.000000000000011574...) / 3 days, rounded half up to 2 places.
    assert summary["average_time_to_convert_days"] == 10.5


def test_analytics_dates_are_inclusive_days_in_the_configured_time_zone(manager, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    inside = LeadFactory(created_at=at(2024, 12, 31, 18, 30))  # 00:00 on 1 January in Kolkata
    LeadFactory(created_at=at(2024, 12, 31, 18, 29))  # still 31 December in Kolkata
    one_day = lead_analytics_summary(manager, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 1))
    assert one_day["total_leads"] == 1
    assert inside.pk  # the one counted


def test_analytics_accept_timestamps_as_bounds(manager, january):
    summary = lead_analytics_summary(manager, start=at(2025, 1, 10, 9), end=at(2025, 1, 20, 12))
    assert summary["total_leads"] == 3  # both bounds are inclusive instants
    assert summary["by_status"]["converted"] == 2


def test_analytics_of_nothing_are_zero_and_null(manager):
    summary = lead_analytics_summary(manager, start=dt.date(2030, 1, 1), end=dt.date(2030, 12, 31))
    assert summary["total_leads"] == 0
    assert set(summary["by_status"].values()) == {0}
    assert set(summary["by_source"].values()) == {0}
    assert summary["conversion_rate"] == 0
    assert summary["average_time_to_convert_days"] is None


def test_conversion_rate_rounds_to_two_decimals(manager):
    LeadFactory(status=LeadStatus.CONVERTED)
    LeadFactory(status=LeadStatus.CONVERTED)
    LeadFactory()
    assert lead_analytics_summary(manager)["conversion_rate"] == 66.67


def test_a_reps_analytics_count_only_what_they_may_see(rep, other_rep):
    LeadFactory(assigned_to=rep, status=LeadStatus.CONVERTED)
    LeadFactory(assigned_to=None)
    LeadFactory(assigned_to=other_rep, status=LeadStatus.CONVERTED)
    LeadFactory(assigned_to=other_rep)
    summary = lead_analytics_summary(rep)
    assert summary["total_leads"] == 2
    assert summary["conversion_rate"] == 50.0


def test_analytics_refuse_an_end_before_the_start(manager):
    with pytest.raises(ValidationError) as exc:
        lead_analytics_summary(manager, start=dt.date(2025, 2, 1), end=dt.date(2025, 1, 31))
    assert "end_date" in exc.value.message_dict


def test_a_one_day_range_is_allowed(manager):
    assert lead_analytics_summary(manager, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 1))["total_leads"] == 0
