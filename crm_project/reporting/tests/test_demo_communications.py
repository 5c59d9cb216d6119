import pytest

from communications.models import Communication
from crm_project.core.tests.factories import ManagerFactory, RepFactory, UserFactory
from crm_project.reporting.demo import DemoContext
from crm_project.reporting.demo import communications as communications_demo
from crm_project.reporting.demo import customers as customers_demo

pytestmark = pytest.mark.django_db


def context() -> DemoContext:
    return DemoContext(
        manager=ManagerFactory(username="demo_manager"),
        reps=[RepFactory(username="demo_rep1"), RepFactory(username="demo_rep2")],
        admin=UserFactory(username="demo_admin", is_superuser=True),
        size=1,
    )


def test_demo_logs_communications_through_the_service_and_a_second_run_adds_nothing():
    customers_demo.seed(context())

    first = communications_demo.seed(context())
    count = Communication.objects.count()
    second = communications_demo.seed(context())

    assert count == 150
    assert Communication.objects.count() == count
    assert first == "150 demo communications (150 new)"
    assert second == "150 demo communications (0 new)"
    assert Communication.objects.filter(requires_follow_up=True, follow_up_completed=True).exists()
    assert Communication.objects.filter(requires_follow_up=True, follow_up_completed=False).exists()
    assert len(set(Communication.objects.values_list("type", flat=True))) >= 5
