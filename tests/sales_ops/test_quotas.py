"""Quota services (validation, who edits), the quota grid selector and the quota list visibility."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.models import Role
from crm.tenancy import tenant_context
from sales_ops.models import Quota
from sales_ops.selectors.quotas import fiscal_months, quota_grid, quota_list
from sales_ops.services.quotas import MAX_AMOUNT, quota_create, quota_delete, quota_update
from tests.factories import MembershipFactory, QuotaFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def org(tenant, admin_member):
    east, west = TeamFactory(tenant=tenant, name="East"), TeamFactory(tenant=tenant, name="West")

    def make(email, role, team):  # type: ignore[no-untyped-def]
        return MembershipFactory(tenant=tenant, user=UserFactory(email=email), role=role, team=team)

    return {
        "admin": admin_member,
        "ops": make("ops@q.test", Role.OPS, None),
        "cs": make("cs@q.test", Role.CS, None),
        "manager": make("manager@q.test", Role.SALES_MANAGER, east),
        "rep1": make("rep1@q.test", Role.SALES_REP, east),
        "rep2": make("rep2@q.test", Role.SALES_REP, west),
        "east": east,
        "west": west,
    }


def create(tenant, membership, **fields):  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        return quota_create(tenant=tenant, membership=membership, **fields)


def test_create_validates_month_target_and_amount(tenant, org):
    quota = create(tenant, org["ops"], owner=org["rep1"].user, month=D(2026, 4, 1), amount="1000.50")
    assert (quota.owner_id, quota.team_id, quota.month, quota.amount) == (
        org["rep1"].user_id,
        None,
        D(2026, 4, 1),
        Decimal("1000.50"),
    )
    with pytest.raises(ValidationError) as exc:
        create(tenant, org["ops"], owner=org["rep1"].user, month=D(2026, 4, 2), amount="1")
    assert "month" in exc.value.message_dict
    with pytest.raises(ValidationError):
        create(tenant, org["ops"], owner=org["rep1"].user, team=org["east"], month=D(2026, 5, 1), amount="1")
    for bad in ("-1", str(MAX_AMOUNT + 1), "1.005", "abc"):
        with pytest.raises(ValidationError) as exc:
            create(tenant, org["ops"], team=org["west"], month=D(2026, 5, 1), amount=bad)
        assert "amount" in exc.value.message_dict
    # One quota per target and month: the second one is refused, not duplicated.
    with pytest.raises(ValidationError) as exc:
        create(tenant, org["ops"], owner=org["rep1"].user, month=D(2026, 4, 1), amount="5")
    assert "month" in exc.value.message_dict
    # The tenant's own row (neither owner nor team) is a target too.
    assert create(tenant, org["admin"], month=D(2026, 4, 1), amount="0").owner_id is None


def test_who_edits(tenant, org):
    manager = org["manager"]
    assert create(tenant, manager, team=org["east"], month=D(2026, 4, 1), amount="10")
    assert create(tenant, manager, owner=org["rep1"].user, month=D(2026, 4, 1), amount="10")
    for fields in ({"team": org["west"]}, {"owner": org["rep2"].user}, {}):
        with pytest.raises(PermissionDenied):
            create(tenant, manager, month=D(2026, 5, 1), amount="10", **fields)
    for role in ("rep1", "cs"):
        with pytest.raises(PermissionDenied):
            create(tenant, org[role], owner=org["rep1"].user, month=D(2026, 6, 1), amount="10")
    west_row = create(tenant, org["ops"], team=org["west"], month=D(2026, 4, 1), amount="10")
    with tenant_context(tenant), pytest.raises(PermissionDenied):
        quota_update(tenant=tenant, membership=manager, quota=west_row, amount="20")
    with tenant_context(tenant), pytest.raises(PermissionDenied):
        # Moving a team quota of their own to another team is refused too (checked before and after).
        east_row = Quota.objects.get(team=org["east"])
        quota_update(tenant=tenant, membership=manager, quota=east_row, team=org["west"])


def test_update_and_delete(tenant, org):
    quota = create(tenant, org["ops"], owner=org["rep1"].user, month=D(2026, 4, 1), amount="10")
    with tenant_context(tenant):
        quota_update(tenant=tenant, membership=org["ops"], quota=quota, amount="25", month=D(2026, 5, 1))
        quota.refresh_from_db()
        assert (quota.amount, quota.month) == (Decimal("25.00"), D(2026, 5, 1))
        quota_update(tenant=tenant, membership=org["ops"], quota=quota, owner=None, team=org["west"])
        quota.refresh_from_db()
        assert (quota.owner_id, quota.team_id) == (None, org["west"].pk)
        quota_delete(tenant=tenant, membership=org["ops"], quota=quota)
        assert not Quota.objects.filter(pk=quota.pk).exists()


def test_quota_list_visibility(tenant, org):
    rows = {
        "tenant": QuotaFactory(tenant=tenant, month=D(2026, 4, 1)),
        "east": QuotaFactory(tenant=tenant, team=org["east"], month=D(2026, 4, 1)),
        "west": QuotaFactory(tenant=tenant, team=org["west"], month=D(2026, 4, 1)),
        "rep1": QuotaFactory(tenant=tenant, owner=org["rep1"].user, month=D(2026, 4, 1)),
        "rep2": QuotaFactory(tenant=tenant, owner=org["rep2"].user, month=D(2026, 4, 1)),
    }
    expected = {
        "admin": set(rows),
        "ops": set(rows),
        "manager": {"tenant", "east", "rep1"},
        "rep1": {"rep1"},
        "cs": {"tenant"},
    }
    names = {quota.pk: name for name, quota in rows.items()}
    with tenant_context(tenant):
        for role, visible in expected.items():
            got = {
                names[pk]
                for pk in quota_list(tenant=tenant, membership=org[role]).values_list("pk", flat=True)
            }
            assert got == visible, role


def test_quota_grid_months_rows_and_query_count(tenant, org, django_assert_num_queries):
    tenant.fiscal_year_start_month = 4
    tenant.save()
    assert fiscal_months(tenant=tenant, year=2026)[0] == D(2026, 4, 1)
    assert fiscal_months(tenant=tenant, year=2026)[-1] == D(2027, 3, 1)
    QuotaFactory(tenant=tenant, month=D(2026, 4, 1), amount=Decimal("900"))
    QuotaFactory(tenant=tenant, team=org["east"], month=D(2026, 5, 1), amount=Decimal("500"))
    QuotaFactory(tenant=tenant, owner=org["rep1"].user, month=D(2027, 3, 1), amount=Decimal("100"))
    QuotaFactory(tenant=tenant, owner=org["rep1"].user, month=D(2026, 3, 1), amount=Decimal("7"))  # FY2025
    with tenant_context(tenant), django_assert_num_queries(3):
        grid = quota_grid(tenant=tenant, membership=org["ops"], year=2026)
    rows = {row["key"]: row for row in grid["rows"]}
    assert list(rows)[:3] == ["tenant", f"team-{org['east'].pk}", f"team-{org['west'].pk}"]
    assert rows["tenant"]["cells"][0] == Decimal("900") and rows["tenant"]["total"] == Decimal("900")
    assert rows[f"team-{org['east'].pk}"]["cells"][1] == Decimal("500")
    rep1 = rows[f"owner-{org['rep1'].user_id}"]
    assert rep1["cells"][11] == Decimal("100") and rep1["total"] == Decimal("100")  # not FY2025's March
    assert rows[f"owner-{org['rep2'].user_id}"]["total"] is None
    assert all(row["editable"] for row in rows.values())

    with tenant_context(tenant), django_assert_num_queries(4):
        grid = quota_grid(tenant=tenant, membership=org["manager"], year=2026)
    rows = {row["key"]: row for row in grid["rows"]}
    assert set(rows) == {
        "tenant",
        f"team-{org['east'].pk}",
        f"owner-{org['rep1'].user_id}",
        f"owner-{org['manager'].user_id}",
    }
    assert not rows["tenant"]["editable"]
    assert rows[f"team-{org['east'].pk}"]["editable"] and rows[f"owner-{org['rep1'].user_id}"]["editable"]

    with tenant_context(tenant):
        grid = quota_grid(tenant=tenant, membership=org["rep1"], year=2026)
    assert [(row["key"], row["editable"]) for row in grid["rows"]] == [
        (f"owner-{org['rep1'].user_id}", False)
    ]
