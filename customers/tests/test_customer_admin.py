import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communications.tests.factories import CommunicationFactory
from crm_project.core.tests.admin_forms import admin_form_data
from customers.models import Customer

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rep_admin(client, rep):
    client.force_login(rep)
    return client


def change_url(customer) -> str:
    return f"{CHANGELIST}{customer.pk}/change/"


def test_changelist_loads_in_a_fixed_number_of_queries(manager_admin, django_assert_max_num_queries):
    manager_admin.get(CHANGELIST)  # Fills the country filter's cache (CountryFilter).
    CustomerFactory.create_batch(5)
    with django_assert_max_num_queries(12) as small:
        assert manager_admin.get(CHANGELIST).status_code == 200
    CustomerFactory.create_batch(45)
    with django_assert_max_num_queries(12) as large:
        assert manager_admin.get(CHANGELIST).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_search_finds_by_code_and_company(manager_admin):
    wanted = CustomerFactory(company_name="Zebra Knits")
    CustomerFactory(company_name="Other")
    page = manager_admin.get(CHANGELIST, {"q": "zebra"}).content.decode()
    assert wanted.customer_code in page and "Other" not in page


def test_adding_a_customer_numbers_it_through_the_service(manager_admin, manager):
    data = admin_form_data(manager_admin.get(f"{CHANGELIST}add/"), "customer_form")
    response = manager_admin.post(f"{CHANGELIST}add/", {**data, "company_name": "Admin Added", "annual_spend": "10"})
    assert response.status_code == 302
    customer = Customer.objects.get(company_name="Admin Added")
    assert customer.customer_code.startswith("CUST-")
    assert customer.created_by == manager


def test_a_customer_with_communications_saves_as_the_browser_posts_it(manager_admin, manager):
    customer = CustomerFactory()
    CommunicationFactory.create_batch(3, customer=customer, our_representative=manager)
    data = admin_form_data(manager_admin.get(change_url(customer)), "customer_form")

    response = manager_admin.post(change_url(customer), {**data, "city": "Nagpur"})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Nagpur"


def test_a_rep_cannot_delete_customers_in_the_admin(rep_admin):
    customer = CustomerFactory()
    assert rep_admin.post(f"{change_url(customer)[:-7]}delete/", {"post": "yes"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_rep_making_someone_else_account_manager_is_refused_on_the_form(rep_admin, other_rep):
    customer = CustomerFactory()
    data = admin_form_data(rep_admin.get(change_url(customer)), "customer_form")
    response = rep_admin.post(change_url(customer), {**data, "account_manager": other_rep.pk, "city": "Typed"})
    assert response.status_code == 200  # The form again, with the service's reason and the input kept.
    form = response.context["adminform"].form
    assert "account_manager_id" in " ".join(form.non_field_errors())
    assert form["city"].value() == "Typed"
    customer.refresh_from_db()
    assert customer.account_manager_id != other_rep.pk


def test_the_country_filter_lists_countries_without_reading_every_customer_each_time(manager_admin):
    CustomerFactory(country="India")
    CustomerFactory(country="Oman")
    CustomerFactory(country="")
    first = manager_admin.get(CHANGELIST)
    assert [choice["display"] for choice in _country_choices(first)] == ["All", "India", "Oman"]
    assert [c.country for c in manager_admin.get(CHANGELIST, {"country": "Oman"}).context["cl"].result_list] == ["Oman"]

    with CaptureQueriesContext(connection) as queries:
        manager_admin.get(CHANGELIST)
    assert not any('DISTINCT "customers_customer"."country"' in query["sql"] for query in queries.captured_queries)


def _country_choices(response):
    (country,) = [spec for spec in response.context["cl"].filter_specs if spec.title == "country"]
    return list(country.choices(response.context["cl"]))
