import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from crm_project.core.roles import ROLE_PERMISSIONS, SALES_MANAGER, SALES_REP, role_of

from .factories import ManagerFactory, RepFactory, UserFactory


def _codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_role_groups_have_their_permissions():
    manager, rep = _codenames(SALES_MANAGER), _codenames(SALES_REP)
    assert {
        "delete_lead",
        "delete_opportunity",
        "delete_customer",
        "change_segment",
        "add_segmentmembership",
    } <= manager
    assert {"view_lead", "add_lead", "change_lead", "view_segment", "view_user"} <= rep
    assert not {"delete_lead", "delete_opportunity", "delete_customer", "change_segment", "add_segment"} & rep


@pytest.mark.django_db
def test_every_listed_permission_exists():
    expected = {
        f"{action}_{model}"
        for spec in ROLE_PERMISSIONS.values()
        for models in spec.values()
        for model, actions in models.items()
        for action in actions
    }
    assert expected == _codenames(SALES_MANAGER) | _codenames(SALES_REP)


@pytest.mark.django_db(transaction=True)
def test_role_groups_survive_a_database_flush():
    call_command("flush", verbosity=0, interactive=False)
    assert _codenames(SALES_REP) >= {"view_lead", "add_lead"}


@pytest.mark.django_db
def test_role_of_each_persona():
    assert role_of(ManagerFactory()) == "sales_manager"
    assert role_of(RepFactory()) == "sales_rep"
    assert role_of(UserFactory()) == "none"
    assert role_of(UserFactory(is_superuser=True)) == "admin"
    assert role_of(RepFactory(is_active=False)) == "none"
