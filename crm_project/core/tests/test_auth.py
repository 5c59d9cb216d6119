"""Authentication: token, refresh (rotating), verify, logout, me, users."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from crm_project.core.tests.factories import PASSWORD, ManagerFactory, RepFactory, UserFactory

from .concurrency import run_concurrently

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
VERIFY_URL = "/api/v1/auth/token/verify"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/auth/me"
USERS_URL = "/api/v1/users"
CRM_URL = "/api/v1/crm/customers"


def obtain(client, username, password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def bearer(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_token_pair_for_good_credentials(anon_client, manager):
    response = obtain(anon_client, "manager")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_the_access_token_opens_the_crm(anon_client, manager):
    access = obtain(anon_client, "manager").json()["access"]
    assert bearer(anon_client, access).get(CRM_URL).status_code == 200


def test_bad_credentials_are_401_with_a_bearer_challenge(anon_client, manager):
    response = obtain(anon_client, "manager", "wrong-password")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_user_is_401_like_a_wrong_password(anon_client):
    assert obtain(anon_client, "nobody").status_code == 401


def test_a_stale_authorization_header_does_not_block_signing_in(anon_client, manager):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert obtain(anon_client, "manager").status_code == 200


def test_missing_fields_are_400_naming_them(anon_client):
    response = anon_client.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_paths_work_with_a_trailing_slash_too(anon_client, manager):
    assert (
        anon_client.post(TOKEN_URL + "/", {"username": "manager", "password": PASSWORD}, format="json").status_code
        == 200
    )


def test_refresh_rotates_and_blacklists_the_old_token(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    first = anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != pair["refresh"]

    again = anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert anon_client.post(REFRESH_URL, {"refresh": first.json()["refresh"]}, format="json").status_code == 200


def test_an_access_token_is_not_a_refresh_token(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    assert anon_client.post(REFRESH_URL, {"refresh": pair["access"]}, format="json").status_code == 401


def test_garbage_refresh_is_401(anon_client):
    assert anon_client.post(REFRESH_URL, {"refresh": "not-a-jwt"}, format="json").status_code == 401


def test_verify_answers_200_or_401(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    assert anon_client.post(VERIFY_URL, {"token": pair["access"]}, format="json").status_code == 200
    assert anon_client.post(VERIFY_URL, {"token": pair["refresh"]}, format="json").status_code == 200
    assert anon_client.post(VERIFY_URL, {"token": "garbage"}, format="json").status_code == 401


def test_verify_refuses_a_spent_refresh_token(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    anon_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    assert anon_client.post(VERIFY_URL, {"token": pair["refresh"]}, format="json").status_code == 401


def test_logout_spends_the_refresh_token_for_good(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    response = anon_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 205
    assert anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_logout_ends_the_access_tokens_of_that_sign_in_at_once(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    assert anon_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json").status_code == 205
    response = bearer(anon_client, pair["access"]).get(ME_URL)
    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]
    anon_client.credentials()
    assert anon_client.post(VERIFY_URL, {"token": pair["access"]}, format="json").status_code == 401


def test_logout_ends_the_tokens_refreshed_from_that_sign_in_too(anon_client, manager):
    first = obtain(anon_client, "manager").json()
    second = anon_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json").json()
    anon_client.post(LOGOUT_URL, {"refresh": second["refresh"]}, format="json")
    for access in (first["access"], second["access"]):
        assert bearer(anon_client, access).get(ME_URL).status_code == 401


def test_logout_leaves_the_users_other_sign_ins_working(anon_client, manager):
    laptop = obtain(anon_client, "manager").json()
    phone = obtain(anon_client, "manager").json()
    anon_client.post(LOGOUT_URL, {"refresh": laptop["refresh"]}, format="json")
    assert bearer(anon_client, phone["access"]).get(ME_URL).status_code == 200
    anon_client.credentials()
    assert anon_client.post(REFRESH_URL, {"refresh": phone["refresh"]}, format="json").status_code == 200


def test_authentication_reads_user_role_and_sign_in_state_in_one_query(manager, django_assert_num_queries):
    from rest_framework.test import APIRequestFactory

    from crm_project.core.api.authentication import CRMJWTAuthentication
    from crm_project.core.api.tokens import CRMRefreshToken
    from crm_project.core.roles import SALES_MANAGER, role_of

    access = CRMRefreshToken.for_user(manager).access_token
    request = APIRequestFactory().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access}")
    with django_assert_num_queries(1):
        user, _token = CRMJWTAuthentication().authenticate(request)
        assert role_of(user) == SALES_MANAGER


def test_a_deactivated_users_tokens_stop_working_at_once(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    manager.is_active = False
    manager.save()
    assert bearer(anon_client, pair["access"]).get(CRM_URL).status_code == 401
    anon_client.credentials()
    assert anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_a_password_change_invalidates_existing_access_and_refresh_tokens(anon_client, manager):
    pair = obtain(anon_client, "manager").json()
    manager.set_password("a-brand-new-password-42")
    manager.save()

    assert bearer(anon_client, pair["access"]).get(CRM_URL).status_code == 401
    anon_client.credentials()
    assert anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401
    assert obtain(anon_client, "manager", "a-brand-new-password-42").status_code == 200


def test_refreshing_a_deleted_users_token_is_401_not_500(anon_client):
    user = ManagerFactory(username="leaver")
    pair = obtain(anon_client, "leaver").json()
    user.delete()
    assert anon_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401
    assert bearer(anon_client, pair["access"]).get(CRM_URL).status_code == 401


def test_no_crm_request_without_a_bearer_token(anon_client):
    for url in [CRM_URL, USERS_URL, ME_URL]:
        response = anon_client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_reports_the_role(client_for, manager, rep, no_role_user, superuser):
    expected = {manager: "sales_manager", rep: "sales_rep", no_role_user: "none", superuser: "admin"}
    for user, role in expected.items():
        body = client_for(user).get(ME_URL).json()
        assert body == {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": role,
        }


def test_users_lists_active_users_with_roles(manager_client, manager, rep):
    UserFactory(username="gone", is_active=False)
    body = manager_client.get(USERS_URL).json()
    assert {"count", "page", "page_size", "total_pages", "next", "previous", "results"} <= set(body)
    rows = {row["username"]: row for row in body["results"]}
    assert "gone" not in rows
    assert rows["rep"]["role"] == "sales_rep"
    assert rows["manager"]["role"] == "sales_manager"
    assert set(rows["rep"]) == {"id", "username", "full_name", "email", "role"}


def test_users_can_be_filtered_by_role_and_search(manager_client, manager, rep):
    assert [row["username"] for row in manager_client.get(USERS_URL + "?role=sales_rep").json()["results"]] == ["rep"]
    assert [row["username"] for row in manager_client.get(USERS_URL + "?search=manag").json()["results"]] == ["manager"]
    assert manager_client.get(USERS_URL + "?role=boss").status_code == 400


def test_a_user_without_an_email_has_null_not_a_blank_address(client_for, manager_client, db):
    nameless = RepFactory(username="no_mail", email="")
    assert client_for(nameless).get(ME_URL).json()["email"] is None
    listed = {user["username"]: user for user in manager_client.get(USERS_URL).json()["results"]}
    assert listed["no_mail"]["email"] is None
    assert listed["manager"]["email"] == "manager@example.com"


def test_the_schema_says_a_users_email_may_be_null(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    for name in ("Me", "UserSummary"):
        email = schema["components"]["schemas"][name]["properties"]["email"]
        assert email.get("nullable") is True, name


def test_users_list_needs_a_crm_role(no_role_client):
    assert no_role_client.get(USERS_URL).status_code == 403


def test_users_list_query_count_is_flat(manager_client, django_assert_max_num_queries):
    RepFactory.create_batch(3)
    with django_assert_max_num_queries(4):
        manager_client.get(USERS_URL)
    RepFactory.create_batch(30)
    with django_assert_max_num_queries(4):
        manager_client.get(USERS_URL)


def test_access_tokens_are_short_lived_by_default():
    # SimpleJWT reads its settings once at import, so the effective value is asserted here.
    assert jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds() == 15 * 60
    assert jwt_settings.ROTATE_REFRESH_TOKENS and jwt_settings.BLACKLIST_AFTER_ROTATION


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_refreshes_of_one_token_have_exactly_one_winner():
    from rest_framework.test import APIClient

    ManagerFactory(username="racer")
    refresh = obtain(APIClient(), "racer").json()["refresh"]

    def refresh_once() -> int:
        return APIClient().post(REFRESH_URL, {"refresh": refresh}, format="json").status_code

    statuses, errors = run_concurrently(refresh_once, threads=10)

    assert errors == []
    assert sorted(statuses) == [200] + [401] * 9
    assert BlacklistedToken.objects.filter(token__user__username="racer").count() == 1


def test_user_model_is_djangos():
    assert get_user_model()._meta.label == "auth.User"
