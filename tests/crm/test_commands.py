"""`python manage.py create_tenant <slug> --name N --time-zone TZ --currency C --admin-email E --admin-password P`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.tenancy import tenant_context
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def create_tenant(slug: str, **options: str) -> str:
    args = {
        "--name": "Delta Logistics",
        "--time-zone": "Europe/Berlin",
        "--currency": "EUR",
        "--admin-email": "boss@delta.test",
        "--admin-password": "delta-pass-98765",
    }
    args.update(options)
    out = StringIO()
    call_command("create_tenant", slug, *[item for pair in args.items() for item in pair], stdout=out)
    return out.getvalue()


def test_create_tenant_creates_tenant_and_admin():
    output = create_tenant("delta")
    assert "Created tenant delta" in output
    tenant = Tenant.objects.get(slug="delta")
    assert (tenant.name, tenant.time_zone, tenant.currency) == ("Delta Logistics", "Europe/Berlin", "EUR")
    user = User.objects.get(email="boss@delta.test")
    assert user.check_password("delta-pass-98765")
    with tenant_context(tenant):
        membership = Membership.objects.get(user=user)
    assert (membership.role, membership.status) == (Role.ADMIN, MembershipStatus.ACTIVE)


def test_create_tenant_upper_cases_currency():
    create_tenant("delta", **{"--currency": "usd"})
    assert Tenant.objects.get(slug="delta").currency == "USD"


def test_create_tenant_refuses_duplicate_slug(tenant):
    with pytest.raises(CommandError, match="taken"):
        create_tenant(tenant.slug)
    assert Tenant.objects.count() == 1
    assert not User.objects.filter(email="boss@delta.test").exists()


def test_create_tenant_refuses_reserved_slug(db):
    with pytest.raises(CommandError, match="reserved"):
        create_tenant("admin")
    assert not Tenant.objects.exists()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"--time-zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"--currency": "EURO"}, "currency"),
        ({"--admin-email": "not-an-email"}, "email"),
    ],
)
def test_create_tenant_validates_input(db, options, field):
    with pytest.raises(CommandError, match=field):
        create_tenant("delta", **options)
    assert not Tenant.objects.exists()


def test_create_tenant_with_existing_user_needs_their_password(tenant, admin_member):
    with pytest.raises(CommandError, match="already has an account"):
        create_tenant(
            "delta", **{"--admin-email": admin_member.user.email, "--admin-password": "wrong-pw-123"}
        )
    assert not Tenant.objects.filter(slug="delta").exists()

    create_tenant("delta", **{"--admin-email": admin_member.user.email, "--admin-password": PASSWORD})
    delta = Tenant.objects.get(slug="delta")
    with tenant_context(delta):
        assert Membership.objects.get(user=admin_member.user).role == Role.ADMIN


def test_seed_demo_that_fails_half_way_leaves_no_half_filled_tenant(monkeypatch):
    """A seed that breaks after the tenant and its admin exist rolls them back, so the next run seeds afresh
    instead of finding the tenant and leaving it empty."""
    from crm import services as crm_services

    real_invite = crm_services.member_invite
    calls = []

    def invite_then_fail(**kwargs):
        calls.append(kwargs["email"])
        if len(calls) == 3:
            raise RuntimeError("seed interrupted")
        return real_invite(**kwargs)

    monkeypatch.setattr(crm_services, "member_invite", invite_then_fail)
    with pytest.raises(RuntimeError):
        call_command("seed_demo", stdout=StringIO())
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not User.objects.filter(email__endswith="@acme.test").exists()
