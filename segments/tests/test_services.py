import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_project.core.exceptions import Conflict, PreconditionFailed
from crm_project.core.roles import is_manager
from crm_project.core.versioning import etag_for
from crm_project.core.webhooks.active import active_subscriptions
from customers.tests.factories import CustomerFactory
from segments import services
from segments.models import Segment, SegmentMembership

from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true, bulk_customers, members_of

pytestmark = pytest.mark.django_db


def ids(customers) -> list:
    return [customer.pk for customer in customers]


# --- create, update, delete -------------------------------------------------------------------


def test_a_manager_creates_a_segment(manager):
    segment = services.segment_create(
        actor=manager,
        data={"name": "High Value", "code": "HVC", "criteria": {"min_annual_spend": 500000}, "priority": 1},
    )
    segment.refresh_from_db()
    assert (segment.code, segment.criteria, segment.priority, segment.customer_count) == (
        "HVC",
        {"min_annual_spend": 500000},
        1,
        0,
    )


def test_a_rep_cannot_create_change_or_delete_a_segment(rep):
    segment = SegmentFactory(name="Old")
    with pytest.raises(PermissionDenied, match="Only sales managers"):
        services.segment_create(actor=rep, data={"name": "X", "code": "X"})
    with pytest.raises(PermissionDenied):
        services.segment_update(actor=rep, segment=segment, data={"name": "New"})
    with pytest.raises(PermissionDenied):
        services.segment_delete(actor=rep, segment=segment)
    segment.refresh_from_db()
    assert segment.name == "Old"
    assert Segment.objects.count() == 1


def test_code_is_unique_case_insensitively(manager):
    SegmentFactory(code="HVC")
    with pytest.raises(ValidationError) as error:
        services.segment_create(actor=manager, data={"name": "Other", "code": "hvc"})
    assert error.value.message_dict == {"code": ["A segment with this code already exists."]}


def test_renaming_to_another_segments_code_is_refused_but_recasing_ones_own_is_not(manager):
    SegmentFactory(code="HVC")
    mine = SegmentFactory(code="vip")
    with pytest.raises(ValidationError, match="already exists"):
        services.segment_update(actor=manager, segment=mine, data={"code": "Hvc"})
    services.segment_update(actor=manager, segment=mine, data={"code": "VIP"})
    mine.refresh_from_db()
    assert mine.code == "VIP"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"criteria": ["min_annual_spend"]}, "criteria"),
        ({"criteria": "monthly"}, "criteria"),
        ({"benefits": [1, 2]}, "benefits"),
        ({"benefits": None}, "benefits"),
        ({"criteria": {"min_annual_spend": "abc"}}, "criteria"),
    ],
)
def test_criteria_and_benefits_must_be_valid_json_objects(manager, data, field):
    with pytest.raises(ValidationError) as error:
        services.segment_create(actor=manager, data={"name": "X", "code": "X", **data})
    assert field in error.value.message_dict
    assert not Segment.objects.exists()


def test_unknown_criteria_keys_are_stored_as_written(manager):
    segment = services.segment_create(
        actor=manager, data={"name": "X", "code": "X", "criteria": {"region": "South", "city": "Pune"}}
    )
    segment.refresh_from_db()
    assert segment.criteria == {"region": "South", "city": "Pune"}


def test_update_advances_updated_at_and_checks_if_match(manager):
    segment = SegmentFactory()
    stale = etag_for(segment)
    updated = services.segment_update(actor=manager, segment=segment, data={"name": "Renamed"}, if_match=stale)
    assert updated.updated_at > segment.updated_at
    with pytest.raises(PreconditionFailed):
        services.segment_update(actor=manager, segment=segment, data={"name": "Again"}, if_match=stale)
    segment.refresh_from_db()
    assert segment.name == "Renamed"


def test_update_never_writes_back_a_stale_customer_count(manager):
    segment = SegmentFactory()
    stale_copy = Segment.objects.get(pk=segment.pk)
    SegmentMembershipFactory(segment=segment)  # The count becomes 1 behind stale_copy's back.
    services.segment_update(actor=manager, segment=stale_copy, data={"description": "Edited"})
    assert_count_is_true(segment)
    assert segment.customer_count == 1


def test_delete_removes_the_memberships_but_never_the_customers(manager):
    segment = SegmentFactory()
    customers = CustomerFactory.create_batch(3)
    services.segment_assign_customers(actor=manager, segment=segment, customer_ids=ids(customers))
    services.segment_delete(actor=manager, segment=segment)
    assert not Segment.objects.exists()
    assert not SegmentMembership.objects.exists()
    assert all(type(c).objects.filter(pk=c.pk).exists() for c in customers)


def test_delete_checks_if_match(manager):
    segment = SegmentFactory()
    with pytest.raises(PreconditionFailed):
        services.segment_delete(actor=manager, segment=segment, if_match='"stale"')
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_acting_on_a_segment_deleted_meanwhile_is_a_conflict(manager):
    segment = SegmentFactory()
    Segment.objects.filter(pk=segment.pk).delete()
    with pytest.raises(Conflict, match="deleted"):
        services.segment_assign_customers(actor=manager, segment=segment, customer_ids=[])


# --- bulk assign and remove -------------------------------------------------------------------


def test_assign_adds_customers_and_counts_those_already_in(manager):
    segment = SegmentFactory()
    first, second, third = CustomerFactory.create_batch(3)
    SegmentMembershipFactory(segment=segment, customer=first)

    result = services.segment_assign_customers(actor=manager, segment=segment, customer_ids=ids([first, second, third]))

    assert result == services.AssignResult(segment_id=segment.pk, assigned=2, already_assigned=1, customer_count=3)
    assert members_of(segment) == {first.pk, second.pk, third.pk}
    assert_count_is_true(segment)


def test_assign_counts_duplicates_once_and_accepts_id_strings(manager):
    segment = SegmentFactory()
    customer = CustomerFactory()
    result = services.segment_assign_customers(
        actor=manager, segment=segment, customer_ids=[customer.pk, str(customer.pk), str(customer.pk).upper()]
    )
    assert (result.assigned, result.already_assigned, result.customer_count) == (1, 0, 1)


def test_assign_records_who_added_each_customer_and_when(manager):
    segment = SegmentFactory()
    customer = CustomerFactory()
    services.segment_assign_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    membership = SegmentMembership.objects.get(segment=segment, customer=customer)
    assert membership.added_by == manager
    assert membership.added_at is not None


def test_assign_with_an_unknown_id_names_it_and_changes_nothing(manager):
    segment = SegmentFactory()
    known = CustomerFactory()
    unknown = uuid.uuid4()
    before = segment.updated_at

    with pytest.raises(ValidationError) as error:
        services.segment_assign_customers(actor=manager, segment=segment, customer_ids=[known.pk, unknown])

    assert error.value.message_dict == {"customer_ids": [f"Unknown customer ids: {unknown}."]}
    assert not SegmentMembership.objects.exists()
    segment.refresh_from_db()
    assert (segment.customer_count, segment.updated_at) == (0, before)


def test_many_unknown_ids_are_named_up_to_a_limit(manager):
    segment = SegmentFactory()
    unknown = [uuid.uuid4() for _ in range(services.UNKNOWN_IDS_SHOWN + 5)]
    with pytest.raises(ValidationError) as error:
        services.segment_assign_customers(actor=manager, segment=segment, customer_ids=unknown)
    assert error.value.message_dict["customer_ids"][0].endswith("and 5 more.")


def test_assign_refuses_more_ids_than_the_cap(manager):
    segment = SegmentFactory()
    with pytest.raises(ValidationError, match=f"At most {services.MAX_CUSTOMER_IDS}"):
        services.segment_assign_customers(
            actor=manager, segment=segment, customer_ids=[uuid.uuid4() for _ in range(services.MAX_CUSTOMER_IDS + 1)]
        )


def test_assign_refuses_ids_that_are_not_uuids(manager):
    with pytest.raises(ValidationError, match="UUID"):
        services.segment_assign_customers(actor=manager, segment=SegmentFactory(), customer_ids=["not-a-uuid"])


def test_a_rep_cannot_change_membership(rep):
    segment = SegmentFactory()
    customer = CustomerFactory()
    with pytest.raises(PermissionDenied, match="Only sales managers"):
        services.segment_assign_customers(actor=rep, segment=segment, customer_ids=[customer.pk])
    SegmentMembershipFactory(segment=segment, customer=customer)
    with pytest.raises(PermissionDenied):
        services.segment_remove_customers(actor=rep, segment=segment, customer_ids=[customer.pk])
    with pytest.raises(PermissionDenied):
        services.segment_apply_criteria(actor=rep, segment=segment)
    assert members_of(segment) == {customer.pk}


def test_a_count_change_advances_updated_at_and_an_idempotent_assign_does_not(manager):
    segment = SegmentFactory()
    customer = CustomerFactory()
    services.segment_assign_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    segment.refresh_from_db()
    after_first = segment.updated_at
    services.segment_assign_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    segment.refresh_from_db()
    assert segment.updated_at == after_first
    assert segment.updated_at > segment.created_at


def test_remove_takes_customers_out_and_counts_those_not_in(manager):
    segment = SegmentFactory()
    member, other_member, outsider = CustomerFactory.create_batch(3)
    services.segment_assign_customers(actor=manager, segment=segment, customer_ids=ids([member, other_member]))

    result = services.segment_remove_customers(
        actor=manager, segment=segment, customer_ids=[member.pk, outsider.pk, member.pk]
    )

    assert result == services.RemoveResult(segment_id=segment.pk, removed=1, not_assigned=1, customer_count=1)
    assert members_of(segment) == {other_member.pk}
    assert_count_is_true(segment)


def test_remove_with_an_unknown_id_names_it_and_changes_nothing(manager):
    segment = SegmentFactory()
    member = CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=member)
    unknown = uuid.uuid4()
    with pytest.raises(ValidationError, match=str(unknown)):
        services.segment_remove_customers(actor=manager, segment=segment, customer_ids=[member.pk, unknown])
    assert members_of(segment) == {member.pk}


def test_remove_only_touches_the_given_segment(manager):
    segment, other = SegmentFactory.create_batch(2)
    customer = CustomerFactory()
    for s in (segment, other):
        SegmentMembershipFactory(segment=s, customer=customer)
    services.segment_remove_customers(actor=manager, segment=segment, customer_ids=[customer.pk])
    assert members_of(other) == {customer.pk}
    assert_count_is_true(segment, other)


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured.captured_queries)


def test_bulk_assign_and_remove_of_5000_customers_take_as_many_queries_as_for_5(manager):
    # The role is read once per user object, the webhook subscriptions once per moment: keep
    # those queries out of the counts.
    is_manager(manager)
    active_subscriptions()
    small, large = SegmentFactory(), SegmentFactory()
    customers = ids(bulk_customers(5000))

    assign_small = _queries(
        lambda: services.segment_assign_customers(actor=manager, segment=small, customer_ids=customers[:5])
    )
    assign_large = _queries(
        lambda: services.segment_assign_customers(actor=manager, segment=large, customer_ids=customers)
    )
    remove_small = _queries(
        lambda: services.segment_remove_customers(actor=manager, segment=small, customer_ids=customers[:5])
    )
    remove_large = _queries(
        lambda: services.segment_remove_customers(actor=manager, segment=large, customer_ids=customers)
    )

    # One of them: the history entry of the change.
    assert assign_small == assign_large <= 8
    assert remove_small == remove_large <= 8
    assert_count_is_true(small, large)
    assert large.customer_count == 0


# --- criteria -----------------------------------------------------------------------------------


def test_apply_criteria_assigns_the_matching_active_customers_and_reports_unknown_keys(manager):
    segment = SegmentFactory(criteria={"min_annual_spend": 500000, "credit_rating": "excellent", "tier": "gold"})
    rich = CustomerFactory(annual_spend=600000, credit_rating="excellent")
    CustomerFactory(annual_spend=600000, credit_rating="excellent", is_active=False)
    CustomerFactory(annual_spend=100000, credit_rating="excellent")
    CustomerFactory(annual_spend=600000, credit_rating="good")

    result = services.segment_apply_criteria(actor=manager, segment=segment)

    assert result == services.ApplyCriteriaResult(
        segment_id=segment.pk, assigned=1, already_assigned=0, customer_count=1, unrecognized_criteria=["tier"]
    )
    assert members_of(segment) == {rich.pk}


def test_apply_criteria_twice_assigns_nothing_new(manager):
    segment = SegmentFactory(criteria={"city": "Pune"})
    CustomerFactory.create_batch(2, city="Pune")
    services.segment_apply_criteria(actor=manager, segment=segment)
    again = services.segment_apply_criteria(actor=manager, segment=segment)
    assert (again.assigned, again.already_assigned, again.customer_count) == (0, 2, 2)


def test_apply_criteria_keeps_members_that_no_longer_match(manager):
    segment = SegmentFactory(criteria={"city": "Pune"})
    hand_picked = CustomerFactory(city="Delhi")
    SegmentMembershipFactory(segment=segment, customer=hand_picked)
    CustomerFactory(city="Pune")
    result = services.segment_apply_criteria(actor=manager, segment=segment)
    assert (result.assigned, result.customer_count) == (1, 2)
    assert hand_picked.pk in members_of(segment)


@pytest.mark.parametrize("criteria", [{}, {"region": "South"}, {"city": None}])
def test_apply_criteria_without_an_evaluable_criterion_is_a_conflict(manager, criteria):
    segment = SegmentFactory(criteria=criteria)
    CustomerFactory()
    with pytest.raises(Conflict, match="no criteria"):
        services.segment_apply_criteria(actor=manager, segment=segment)
    assert not SegmentMembership.objects.exists()


def test_apply_criteria_refuses_invalid_stored_criteria(manager):
    segment = SegmentFactory(criteria={"min_annual_spend": "lots"})
    with pytest.raises(ValidationError) as error:
        services.segment_apply_criteria(actor=manager, segment=segment)
    assert "criteria" in error.value.message_dict


def test_apply_criteria_takes_as_many_queries_for_many_matches_as_for_few(manager):
    is_manager(manager)
    active_subscriptions()
    few, many = SegmentFactory(criteria={"city": "Surat"}), SegmentFactory(criteria={"city": "Goa"})
    bulk_customers(3, city="Surat")
    bulk_customers(800, city="Goa")
    assert _queries(lambda: services.segment_apply_criteria(actor=manager, segment=few)) == _queries(
        lambda: services.segment_apply_criteria(actor=manager, segment=many)
    )
    assert_count_is_true(few, many)
    assert many.customer_count == 800


# --- recount ------------------------------------------------------------------------------------


def test_recount_repairs_a_drifted_count_and_reports_it():
    segment = SegmentFactory(code="HVC")
    SegmentMembershipFactory.create_batch(3, segment=segment)
    Segment.objects.update(customer_count=999)

    result = services.segment_recount(segment_id=segment.pk)

    assert (result.code, result.old, result.new, result.corrected) == ("HVC", 999, 3, True)
    assert_count_is_true(segment)


def test_recount_of_a_true_count_writes_nothing():
    segment = SegmentFactory()
    SegmentMembershipFactory(segment=segment)
    segment.refresh_from_db()
    result = services.segment_recount(segment_id=segment.pk)
    refreshed = Segment.objects.get(pk=segment.pk)
    assert not result.corrected
    assert refreshed.updated_at == segment.updated_at


def test_recount_of_a_missing_segment_is_none():
    assert services.segment_recount(segment_id=uuid.uuid4()) is None


def test_bulk_paths_around_the_services_drift_and_recount_all_repairs_them():
    segment = SegmentFactory()
    customers = CustomerFactory.create_batch(2)
    # bulk_create sends no signals: the documented way to drift.
    SegmentMembership.objects.bulk_create([SegmentMembership(segment=segment, customer=c) for c in customers])
    segment.refresh_from_db()
    assert segment.customer_count == 0

    results = services.segment_recount_all()

    assert [(r.old, r.new) for r in results] == [(0, 2)]
    assert_count_is_true(segment)
