"""Quotas: managers write, reps read their own; one per user and month, on the month's first day."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from crm_project.core.models import HistoryEntry
from opportunities.models import Quota
from opportunities.services import quota_create, quota_import, quota_update

pytestmark = pytest.mark.django_db

URL = "/api/v1/crm/quotas"
JAN = dt.date(2026, 1, 1)


def quota(user, month=JAN, amount="1000.00"):
    return Quota.objects.create(user=user, period_start=month, amount=Decimal(amount))


def test_a_manager_sets_a_quota(manager_client, rep):
    response = manager_client.post(
        URL, {"user_id": rep.pk, "period_start": "2026-01-01", "amount": "25000.00"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "user_id", "period_start", "amount"}
    assert (body["user_id"], body["period_start"], body["amount"]) == (rep.pk, "2026-01-01", 25000.0)
    assert HistoryEntry.objects.filter(record_type="quota", record_id=body["id"], action="created").exists()


def test_a_rep_cannot_set_a_quota(rep_client, rep):
    response = rep_client.post(URL, {"user_id": rep.pk, "period_start": "2026-01-01", "amount": "1"}, format="json")
    assert response.status_code == 403
    assert not Quota.objects.exists()


def test_a_rep_cannot_change_their_own_quota(rep_client, rep):
    own = quota(rep)
    assert rep_client.patch(f"{URL}/{own.pk}", {"amount": "99"}, format="json").status_code == 403
    assert rep_client.delete(f"{URL}/{own.pk}").status_code == 403


def test_a_rep_reads_only_their_own_quotas(rep_client, rep, other_rep, manager_client):
    own, other = quota(rep), quota(other_rep)
    assert [row["id"] for row in rep_client.get(URL).json()["results"]] == [str(own.pk)]
    assert rep_client.get(f"{URL}/{other.pk}").status_code == 404
    assert {row["id"] for row in manager_client.get(URL).json()["results"]} == {str(own.pk), str(other.pk)}


def test_a_quota_starts_on_the_first_of_a_month(manager_client, rep):
    response = manager_client.post(URL, {"user_id": rep.pk, "period_start": "2026-01-15", "amount": "1"}, format="json")
    assert response.status_code == 400
    assert "period_start" in response.json()


def test_one_quota_per_user_and_month(manager_client, rep):
    quota(rep)
    response = manager_client.post(URL, {"user_id": rep.pk, "period_start": "2026-01-01", "amount": "5"}, format="json")
    assert response.status_code == 400
    assert "period_start" in response.json()


def test_the_database_holds_the_quota_rules(rep):
    quota(rep)
    with pytest.raises(IntegrityError), transaction.atomic():
        quota(rep)
    with pytest.raises(IntegrityError), transaction.atomic():
        quota(rep, month=dt.date(2026, 2, 2))


def test_an_update_may_not_move_a_quota_onto_a_taken_month(manager, rep):
    quota(rep)
    february = quota(rep, month=dt.date(2026, 2, 1))
    with pytest.raises(ValidationError):
        quota_update(actor=manager, quota=february, data={"period_start": JAN})


def test_the_service_refuses_a_rep(rep):
    with pytest.raises(PermissionDenied):
        quota_create(actor=rep, data={"user": rep, "period_start": JAN, "amount": Decimal("1")})


def test_the_import_creates_and_updates(manager, rep, other_rep):
    quota(rep, amount="1.00")
    counts = quota_import(
        actor=manager,
        rows=[
            {"user": rep, "period_start": JAN, "amount": Decimal("500.00")},
            {"user": other_rep, "period_start": JAN, "amount": Decimal("700.00")},
        ],
    )
    assert counts == {"created": 1, "updated": 1, "unchanged": 0}
    assert sorted(Quota.objects.values_list("user__username", "amount")) == [
        (other_rep.username, Decimal("700.00")),
        (rep.username, Decimal("500.00")),
    ]


def test_import_quotas_command(tmp_path, rep, other_rep):
    path = tmp_path / "quotas.csv"
    path.write_text(f"user,month,amount\n{rep.username},2026-01,1000.50\n{other_rep.pk},2026-02-01,2000\n")
    call_command("import_quotas", str(path))
    assert sorted(Quota.objects.values_list("user_id", "period_start", "amount")) == sorted(
        [(rep.pk, JAN, Decimal("1000.50")), (other_rep.pk, dt.date(2026, 2, 1), Decimal("2000.00"))]
    )


def test_import_quotas_is_all_or_nothing(tmp_path, rep):
    path = tmp_path / "quotas.csv"
    path.write_text(f"user,month,amount\n{rep.username},2026-01,10\n{rep.username},2026-01,20\n")
    with pytest.raises(CommandError, match="Row 3"):
        call_command("import_quotas", str(path))
    assert not Quota.objects.exists()


def test_import_quotas_refuses_a_bad_month(tmp_path, rep):
    path = tmp_path / "quotas.csv"
    path.write_text(f"user,month,amount\n{rep.username},2026-13,10\n")
    with pytest.raises(CommandError, match="Row 2: month"):
        call_command("import_quotas", str(path))
