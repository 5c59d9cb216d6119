import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from communications.admin import (
    INLINE_ROW_LIMIT,
    CustomerCommunicationInline,
    LeadCommunicationInline,
    OpportunityCommunicationInline,
)
from communications.models import Communication
from customers.models import Customer
from customers.tests.factories import CustomerFactory

from .factories import CommunicationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:communications_communication_changelist")
ADD = reverse("admin:communications_communication_add")
NOW = timezone.now()


def change_url(communication) -> str:
    return reverse("admin:communications_communication_change", args=[communication.pk])


def shown(response) -> list[Communication]:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def add_form(**fields) -> dict:
    """The admin add form as a browser posts it (split date and time inputs)."""
    form = {
        "subject": "Visit to the showroom",
        "type": "visit",
        "direction": "outbound",
        "communication_date_0": "2025-06-10",
        "communication_date_1": "10:00:00",
        "duration_minutes": "45",
        "customer": "",
        "lead": "",
        "opportunity": "",
        "contact_person": "John Doe",
        "our_representative": "",
        "content": "",
        "attachments": "[]",
        "follow_up_date_0": "",
        "follow_up_date_1": "",
    }
    form.update(fields)
    return form


def test_the_changelist_loads_in_a_fixed_number_of_queries(client, manager, django_assert_max_num_queries):
    client.force_login(manager)
    CommunicationFactory.create_batch(5, our_representative=manager)
    client.get(CHANGELIST)  # warm up: the session's first read differs
    with django_assert_max_num_queries(20) as small:
        assert len(shown(client.get(CHANGELIST))) == 5
    CommunicationFactory.create_batch(45, our_representative=manager)
    with django_assert_max_num_queries(20) as large:
        assert len(shown(client.get(CHANGELIST))) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


def test_search_finds_subject_and_content(client, manager):
    client.force_login(manager)
    by_subject = CommunicationFactory(subject="Winter collection review")
    by_content = CommunicationFactory(content="They want more winter jackets")
    CommunicationFactory(subject="Invoice", content="Paid")
    assert set(shown(client.get(CHANGELIST, {"q": "winter"}))) == {by_subject, by_content}


@pytest.mark.parametrize(
    ("state", "expected"), [("pending", "later"), ("overdue", "late"), ("completed", "done"), ("none", "plain")]
)
def test_the_follow_up_filter(client, manager, state, expected):
    client.force_login(manager)
    rows = {
        "later": CommunicationFactory(requires_follow_up=True, follow_up_date=NOW + dt.timedelta(days=2)),
        "late": CommunicationFactory(requires_follow_up=True, follow_up_date=NOW - dt.timedelta(days=2)),
        "done": CommunicationFactory(
            requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True, follow_up_completed_at=NOW
        ),
        "plain": CommunicationFactory(requires_follow_up=False),
    }
    assert shown(client.get(CHANGELIST, {"follow_up": state})) == [rows[expected]]


def test_type_direction_and_representative_filters(client, manager, rep):
    client.force_login(manager)
    wanted = CommunicationFactory(type="email", direction="inbound", our_representative=rep)
    CommunicationFactory(type="phone", direction="outbound", our_representative=manager)
    for params in [
        {"type__exact": "email"},
        {"direction__exact": "inbound"},
        {"our_representative__id__exact": rep.pk},
    ]:
        assert shown(client.get(CHANGELIST, params)) == [wanted], params


def test_a_rep_sees_only_their_communications(client, rep, other_rep):
    client.force_login(rep)
    mine = CommunicationFactory(our_representative=rep)
    theirs = CommunicationFactory(our_representative=other_rep)
    assert shown(client.get(CHANGELIST)) == [mine]
    assert client.get(change_url(theirs)).status_code in (302, 404)


def test_the_action_completes_follow_ups_through_the_service(client, manager):
    client.force_login(manager)
    open_one = CommunicationFactory(requires_follow_up=True, follow_up_date=NOW)
    not_required = CommunicationFactory(requires_follow_up=False)

    response = client.post(
        CHANGELIST,
        {"action": "complete_follow_ups", admin.helpers.ACTION_CHECKBOX_NAME: [open_one.pk, not_required.pk]},
        follow=True,
    )

    open_one.refresh_from_db()
    assert open_one.follow_up_completed is True and open_one.follow_up_completed_at is not None
    texts = [str(message) for message in response.context["messages"]]
    assert any("1 follow-up marked as completed" in text for text in texts)
    assert any(not_required.subject in text and "requires no follow-up" in text for text in texts)


def test_adding_in_the_admin_logs_through_the_service(client, manager):
    client.force_login(manager)
    customer = CustomerFactory()

    response = client.post(ADD, add_form(customer=customer.pk))

    assert response.status_code == 302, response.context["adminform"].form.errors
    communication = Communication.objects.get()
    assert communication.our_representative == manager  # the service's default
    assert communication.created_by == manager
    customer.refresh_from_db()
    assert customer.last_contacted_at == communication.communication_date


def test_the_add_form_starts_with_the_user_as_representative(client, manager):
    client.force_login(manager)
    form = client.get(ADD).context["adminform"].form
    assert form.initial["our_representative"] == manager.pk


def test_the_admin_refuses_a_communication_about_nothing(client, manager):
    client.force_login(manager)
    response = client.post(ADD, add_form())
    assert response.status_code == 200
    assert "must concern a customer, a lead or an opportunity" in response.content.decode()
    assert not Communication.objects.exists()


def test_a_refusal_by_the_service_is_shown_on_the_form(client, rep, other_rep):
    client.force_login(rep)
    communication = CommunicationFactory(our_representative=rep)
    form = add_form(customer=communication.customer_id, our_representative=other_rep.pk, subject="Kept as typed")

    response = client.post(change_url(communication), form)

    communication.refresh_from_db()
    assert communication.our_representative == rep
    assert response.status_code == 200  # The form again, with what the user typed.
    admin_form = response.context["adminform"].form
    assert "our_representative_id" in " ".join(admin_form.non_field_errors())
    assert admin_form["subject"].value() == "Kept as typed"


def test_deleting_in_the_admin_recomputes_the_customers_last_contact(client, manager):
    client.force_login(manager)
    customer = CustomerFactory()
    CommunicationFactory(customer=customer, communication_date=NOW - dt.timedelta(days=3))
    latest = CommunicationFactory(customer=customer, communication_date=NOW)
    url = reverse("admin:communications_communication_delete", args=[latest.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    customer.refresh_from_db()
    assert customer.last_contacted_at == NOW - dt.timedelta(days=3)


# --- inlines on the customer, lead and opportunity pages -----------------------------------------


@pytest.fixture
def customer_page_with_inline(monkeypatch):
    """The customer admin as the lead engineer will wire it: with the communications inline."""
    monkeypatch.setattr(admin.site._registry[Customer], "inlines", [CustomerCommunicationInline])

    def url(customer) -> str:
        return reverse("admin:customers_customer_change", args=[customer.pk])

    return url


def inline_rows(response) -> list[Communication]:
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    return [form.original for form in inline]


def test_the_inline_shows_the_newest_rows_only_in_a_fixed_number_of_queries(
    client, manager, customer_page_with_inline, django_assert_max_num_queries
):
    client.force_login(manager)
    customer = CustomerFactory()
    CommunicationFactory.create_batch(5, customer=customer, our_representative=manager)
    client.get(customer_page_with_inline(customer))  # warm up: the session's first read differs
    with django_assert_max_num_queries(25) as small:
        assert len(inline_rows(client.get(customer_page_with_inline(customer)))) == 5

    start = NOW - dt.timedelta(days=100)
    for day in range(45):
        CommunicationFactory(
            customer=customer, our_representative=manager, communication_date=start + dt.timedelta(days=day)
        )
    with django_assert_max_num_queries(25) as large:
        rows = inline_rows(client.get(customer_page_with_inline(customer)))

    assert len(rows) == INLINE_ROW_LIMIT
    assert [row.communication_date for row in rows] == sorted((row.communication_date for row in rows), reverse=True)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_inline_is_read_only_with_a_view_link(client, manager, customer_page_with_inline):
    client.force_login(manager)
    communication = CommunicationFactory(subject="Quarterly review", our_representative=manager)
    response = client.get(customer_page_with_inline(communication.customer))
    html = response.content.decode()
    assert change_url(communication) in html
    assert "inlineviewlink" in html
    assert 'name="communications-0-subject"' not in html  # shown, not editable


def test_the_inline_shows_a_rep_only_what_they_may_see(client, rep, other_rep, customer_page_with_inline):
    client.force_login(rep)
    customer = CustomerFactory()
    mine = CommunicationFactory(customer=customer, our_representative=rep)
    CommunicationFactory(customer=customer, our_representative=other_rep)
    assert inline_rows(client.get(customer_page_with_inline(customer))) == [mine]


def test_saving_the_parent_page_leaves_the_inline_rows_alone(client, manager, customer_page_with_inline):
    client.force_login(manager)
    communication = CommunicationFactory(subject="Keep me", our_representative=manager)
    customer = communication.customer
    page = client.get(customer_page_with_inline(customer))
    form = page.context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    management = page.context["inline_admin_formsets"][0].formset.management_form
    data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    data.update({"communications-0-id": communication.pk, "communications-0-customer": customer.pk})
    data["company_name"] = "Renamed"

    response = client.post(customer_page_with_inline(customer), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    communication.refresh_from_db()
    assert communication.subject == "Keep me"


@pytest.mark.parametrize(
    ("inline", "fk_name"),
    [
        (CustomerCommunicationInline, "customer"),
        (LeadCommunicationInline, "lead"),
        (OpportunityCommunicationInline, "opportunity"),
    ],
)
def test_each_inline_follows_its_own_link(inline, fk_name):
    assert inline.fk_name == fk_name
    assert inline.model is Communication


# --- due follow-ups and completing one from its page ------------------------------------------------


def test_the_due_filter_is_the_apis_pending_follow_ups_due_by_the_end_of_today(client, manager):
    client.force_login(manager)
    end_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(23, 59)))
    late = CommunicationFactory(requires_follow_up=True, follow_up_date=NOW - dt.timedelta(days=3))
    tonight = CommunicationFactory(requires_follow_up=True, follow_up_date=end_of_today)
    CommunicationFactory(requires_follow_up=True, follow_up_date=end_of_today + dt.timedelta(minutes=2))
    CommunicationFactory(
        requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True, follow_up_completed_at=NOW
    )
    assert set(shown(client.get(CHANGELIST, {"follow_up": "due"}))) == {late, tonight}


def test_follow_up_states_are_coloured_badges_in_the_list(client, manager):
    client.force_login(manager)
    CommunicationFactory(requires_follow_up=True, follow_up_date=NOW - dt.timedelta(days=1))
    assert '<span class="crm-badge crm-badge--overdue">Overdue</span>' in client.get(CHANGELIST).content.decode()


def complete_url(communication) -> str:
    return reverse("admin:communications_communication_complete_follow_up", args=[communication.pk])


def test_a_rep_completes_a_follow_up_from_its_page_through_the_service(client, rep):
    client.force_login(rep)
    communication = CommunicationFactory(our_representative=rep, requires_follow_up=True, follow_up_date=NOW)
    assert complete_url(communication) in client.get(change_url(communication)).content.decode()
    assert client.get(complete_url(communication)).status_code == 200  # A confirmation page; nothing done yet.
    communication.refresh_from_db()
    assert not communication.follow_up_completed

    response = client.post(complete_url(communication))

    assert response.status_code == 302 and response["Location"] == change_url(communication)
    communication.refresh_from_db()
    assert communication.follow_up_completed and communication.follow_up_completed_at is not None
    assert complete_url(communication) not in client.get(change_url(communication)).content.decode()


def test_completing_twice_is_refused_with_the_services_reason(client, manager):
    client.force_login(manager)
    done = CommunicationFactory(
        requires_follow_up=True, follow_up_date=NOW, follow_up_completed=True, follow_up_completed_at=NOW
    )
    response = client.post(complete_url(done), follow=True)
    assert response.redirect_chain == [(change_url(done), 302)]  # Nothing to correct on a confirmation.
    assert any("already" in str(message) for message in response.context["messages"])


def test_another_reps_follow_up_cannot_be_completed(client, rep, other_rep):
    client.force_login(rep)
    theirs = CommunicationFactory(our_representative=other_rep, requires_follow_up=True, follow_up_date=NOW)
    assert client.post(complete_url(theirs)).status_code == 302
    theirs.refresh_from_db()
    assert not theirs.follow_up_completed
