import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory

from customers.tests.factories import CustomerFactory
from segments.admin import INLINE_MEMBERS_MAX, CustomerSegmentMembershipInline
from segments.models import Segment, SegmentMembership

from .factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true, members_of

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/segments/segment/"
ADD = "/admin/segments/segment/add/"


def change_url(segment) -> str:
    return f"/admin/segments/segment/{segment.pk}/change/"


def form_data(response) -> dict:
    """The POST data of the change form as the page rendered it (main form and inlines)."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rep_admin(client, rep):
    client.force_login(rep)
    return client


def test_changelist_loads_and_searches(manager_admin):
    SegmentFactory(name="High Value", code="HVC")
    SegmentFactory(name="Local", code="LOC", description="Nearby buyers")
    response = manager_admin.get(CHANGELIST + "?q=nearby")
    assert response.status_code == 200
    assert [s.code for s in response.context["cl"].result_list] == ["LOC"]


def test_changelist_query_count_does_not_grow_with_rows(manager_admin, django_assert_max_num_queries):
    SegmentFactory.create_batch(5)
    with django_assert_max_num_queries(12) as small:
        assert manager_admin.get(CHANGELIST).status_code == 200
    SegmentFactory.create_batch(45)
    with django_assert_max_num_queries(12) as large:
        assert manager_admin.get(CHANGELIST).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


def test_adding_a_segment_goes_through_the_service(manager_admin):
    response = manager_admin.post(
        ADD,
        {
            "name": "Pune buyers",
            "code": "PUNE",
            "is_active": "on",
            "priority": "2",
            "criteria": '{"city": "Pune"}',
            "benefits": "{}",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    segment = Segment.objects.get()
    assert (segment.code, segment.criteria, segment.priority) == ("PUNE", {"city": "Pune"}, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [("criteria", "[1, 2]"), ("criteria", '{"min_annual_spend": "abc"}'), ("benefits", '"gold"'), ("priority", "-1")],
)
def test_invalid_values_are_shown_on_their_field(manager_admin, field, value):
    data = {"name": "X", "code": "X", "priority": "0", "criteria": "{}", "benefits": "{}", field: value}
    data |= {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = manager_admin.post(ADD, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Segment.objects.exists()


def test_a_code_taken_in_another_case_is_refused(manager_admin):
    SegmentFactory(code="HVC")
    data = {"name": "X", "code": "hvc", "priority": "0", "criteria": "{}", "benefits": "{}"}
    response = manager_admin.post(ADD, data | {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert Segment.objects.count() == 1


def test_adding_a_member_in_the_inline_counts_it_and_records_who_added_it(manager_admin, manager):
    segment = SegmentFactory()
    customer = CustomerFactory()
    data = form_data(manager_admin.get(change_url(segment)))
    data |= {"memberships-TOTAL_FORMS": "1", "memberships-0-customer": str(customer.pk)}

    response = manager_admin.post(change_url(segment), data)

    assert response.status_code == 302
    assert members_of(segment) == {customer.pk}
    assert SegmentMembership.objects.get().added_by == manager
    assert_count_is_true(segment)
    assert segment.customer_count == 1


def test_deleting_a_member_in_the_inline_uncounts_it(manager_admin):
    segment = SegmentFactory()
    leaving, staying = CustomerFactory.create_batch(2)
    SegmentMembershipFactory(segment=segment, customer=leaving)
    SegmentMembershipFactory(segment=segment, customer=staying)
    response = manager_admin.get(change_url(segment))
    data = form_data(response)
    forms = response.context["inline_admin_formsets"][0].formset.forms
    leaving_form = next(form for form in forms if form.instance.customer_id == leaving.pk)
    data[leaving_form.add_prefix("DELETE")] = "on"

    assert manager_admin.post(change_url(segment), data).status_code == 302

    assert members_of(segment) == {staying.pk}
    assert_count_is_true(segment)


def test_the_inline_picks_customers_with_autocomplete(manager_admin):
    CustomerFactory(company_name="Acme Garments")
    CustomerFactory(company_name="Other")
    response = manager_admin.get(
        "/admin/autocomplete/",
        {"app_label": "segments", "model_name": "segmentmembership", "field_name": "customer", "term": "acme"},
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [
        str(CustomerFactory._meta.model.objects.get(company_name="Acme Garments"))
    ]


def test_a_big_segment_shows_no_inline_and_says_where_to_manage_it(manager_admin):
    segment = SegmentFactory()
    Segment.objects.filter(pk=segment.pk).update(customer_count=INLINE_MEMBERS_MAX + 1)
    response = manager_admin.get(change_url(segment))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"] == []
    assert "too many to list here" in response.content.decode()


def test_recount_action_corrects_drifted_counts(manager_admin):
    segment = SegmentFactory(code="HVC")
    SegmentMembershipFactory.create_batch(2, segment=segment)
    Segment.objects.update(customer_count=999)
    response = manager_admin.post(
        CHANGELIST, {"action": "recount_customers", "_selected_action": [str(segment.pk)]}, follow=True
    )
    assert "Corrected 1 count: HVC: 999 → 2." in messages_of(response)
    assert_count_is_true(segment)


def test_apply_criteria_action_assigns_matches_and_reports_refusals(manager_admin):
    pune = SegmentFactory(code="PUNE", criteria={"city": "Pune"})
    vague = SegmentFactory(code="VAGUE", criteria={"mood": "happy"})
    customer = CustomerFactory(city="Pune")
    response = manager_admin.post(
        CHANGELIST, {"action": "apply_criteria", "_selected_action": [str(pune.pk), str(vague.pk)]}, follow=True
    )
    notes = messages_of(response)
    assert "PUNE: 1 assigned, 0 already in it, 1 in all." in notes
    assert any(note.startswith("VAGUE: This segment has no criteria") for note in notes)
    assert members_of(pune) == {customer.pk}


def test_delete_confirmation_summarises_and_deleting_keeps_customers(manager_admin):
    segment = SegmentFactory(code="HVC")
    customer = CustomerFactory()
    SegmentMembershipFactory(segment=segment, customer=customer)
    delete_url = f"/admin/segments/segment/{segment.pk}/delete/"
    page = manager_admin.get(delete_url)
    assert page.status_code == 200
    assert "and its 1 membership rows" in page.content.decode()
    assert manager_admin.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Segment.objects.exists()
    assert type(customer).objects.filter(pk=customer.pk).exists()


def test_reps_see_segments_read_only(rep_admin):
    segment = SegmentFactory(name="Kept")
    assert rep_admin.get(CHANGELIST).status_code == 200
    page = rep_admin.get(change_url(segment))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    # No change permission at all: the admin's own 403, before any service is asked.
    assert rep_admin.post(change_url(segment), {"name": "Changed", "code": segment.code}).status_code == 403
    assert rep_admin.get(ADD).status_code == 403
    assert rep_admin.get(f"/admin/segments/segment/{segment.pk}/delete/").status_code == 403
    segment.refresh_from_db()
    assert segment.name == "Kept"


def test_reps_cannot_run_the_actions(rep_admin):
    segment = SegmentFactory()
    response = rep_admin.get(CHANGELIST)
    assert "recount_customers" not in response.content.decode()
    rep_admin.post(CHANGELIST, {"action": "recount_customers", "_selected_action": [str(segment.pk)]})
    assert not messages_of(rep_admin.get(CHANGELIST))


def test_the_customer_page_inline_saves_through_the_services(manager):
    customer = CustomerFactory()
    hvc, vip = SegmentFactory.create_batch(2)
    SegmentMembershipFactory(segment=vip, customer=customer)
    request = RequestFactory().post("/")
    request.user = manager
    inline = CustomerSegmentMembershipInline(type(customer), admin.site)
    FormSet = inline.get_formset(request, customer)
    existing = SegmentMembership.objects.get(segment=vip)
    formset = FormSet(
        {
            "segment_memberships-TOTAL_FORMS": "2",
            "segment_memberships-INITIAL_FORMS": "1",
            "segment_memberships-0-id": str(existing.pk),
            "segment_memberships-0-customer": str(customer.pk),
            "segment_memberships-0-DELETE": "on",
            "segment_memberships-1-segment": str(hvc.pk),
            "segment_memberships-1-customer": str(customer.pk),
        },
        instance=customer,
        prefix="segment_memberships",
    )
    assert formset.is_valid(), formset.errors
    formset.save()

    assert set(customer.segment_memberships.values_list("segment_id", flat=True)) == {hvc.pk}
    assert SegmentMembership.objects.get().added_by == manager
    assert_count_is_true(hvc, vip)
    assert (hvc.customer_count, vip.customer_count) == (1, 0)
