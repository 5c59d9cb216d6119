"""Users with CRM roles, for every app's tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crm_project.core.roles import SALES_MANAGER, SALES_REP

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = True
    password = factory.django.Password(PASSWORD)

    # ``UserFactory(role="sales_rep")`` puts the user in that role's group.
    role = factory.PostGeneration(lambda user, create, extracted, **kwargs: _join(user, create, extracted))


def _join(user, create: bool, group_name: str | None) -> None:
    if create and group_name:
        user.groups.add(Group.objects.get(name=group_name))


class ManagerFactory(UserFactory):
    role = factory.PostGeneration(lambda user, create, extracted, **kw: _join(user, create, extracted or SALES_MANAGER))


class RepFactory(UserFactory):
    role = factory.PostGeneration(lambda user, create, extracted, **kw: _join(user, create, extracted or SALES_REP))
