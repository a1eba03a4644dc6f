"""Role visibility of accounts, contacts and activities (DESIGN.md "Roles and visibility"), per role, in the
selectors, the pages and the API; history and timeline reads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AccountAccess, LifecycleStageName
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import contacts as contacts_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import merges as merges_selectors
from accounts.selectors import visibility as visibility_selectors
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import (
    AccountFactory,
    AccountMemberFactory,
    ActivityFactory,
    ContactFactory,
)
from tests.factories_accounts import make_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, admin_member, member):
    """East team: manager, rep, rep2. West: west_rep. Plus ops and cs. One account per visibility rule."""
    people = {
        "admin": admin_member,
        "manager": member(role=Role.SALES_MANAGER, team="East"),
        "rep": member(role=Role.SALES_REP, team="East"),
        "rep2": member(role=Role.SALES_REP, team="East"),
        "west": member(role=Role.SALES_REP, team="West"),
        "ops": member(role=Role.OPS),
        "cs": member(role=Role.CS, team="CS"),
    }
    u = {k: m.user for k, m in people.items()}
    a = {
        "rep_own": AccountFactory(tenant=tenant, name="rep_own", owner=u["rep"]),
        "rep2_own": AccountFactory(tenant=tenant, name="rep2_own", owner=u["rep2"]),
        "west_own": AccountFactory(tenant=tenant, name="west_own", owner=u["west"]),
        "team_edit": AccountFactory(tenant=tenant, name="team_edit", owner=u["west"]),
        "shared_read": AccountFactory(tenant=tenant, name="shared_read", owner=u["west"]),
        "deal_owner": AccountFactory(tenant=tenant, name="deal_owner", owner=u["west"]),
        "activity_owner": AccountFactory(tenant=tenant, name="activity_owner", owner=u["west"]),
        "customer": AccountFactory(
            tenant=tenant, name="customer", owner=u["west"], lifecycle_stage=LifecycleStageName.RETENTION
        ),
        "unowned": AccountFactory(tenant=tenant, name="unowned", owner=None),
    }
    AccountMemberFactory(account=a["team_edit"], user=u["rep"], access=AccountAccess.EDIT)
    AccountMemberFactory(account=a["shared_read"], user=u["rep"], access=AccountAccess.READ)
    make_deal(account=a["deal_owner"], owner=u["rep"])
    ActivityFactory(account=a["activity_owner"], owner=u["rep"])
    AccountFactory(tenant=tenant, name="deleted", owner=u["rep"], deleted_at="2026-01-01T00:00:00Z")
    return people, a


VISIBLE = {
    "admin": {
        "rep_own",
        "rep2_own",
        "west_own",
        "team_edit",
        "shared_read",
        "deal_owner",
        "activity_owner",
        "customer",
        "unowned",
    },
    "ops": {
        "rep_own",
        "rep2_own",
        "west_own",
        "team_edit",
        "shared_read",
        "deal_owner",
        "activity_owner",
        "customer",
        "unowned",
    },
    "manager": {"rep_own", "rep2_own", "team_edit", "shared_read", "deal_owner", "activity_owner"},
    "rep": {"rep_own", "team_edit", "shared_read", "deal_owner", "activity_owner"},
    "rep2": {"rep2_own"},
    "west": {"west_own", "team_edit", "shared_read", "deal_owner", "activity_owner", "customer"},
    "cs": {"customer"},
}
EDITABLE = {
    "admin": VISIBLE["admin"],
    "ops": set(),
    "manager": {"rep_own", "rep2_own", "team_edit", "deal_owner"},
    "rep": {"rep_own", "team_edit", "deal_owner"},
    "rep2": {"rep2_own"},
    "west": VISIBLE["west"],
    "cs": {"customer"},
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_account_visibility_per_role(tenant, world, role):
    people, _accounts = world
    with tenant_context(tenant):
        seen = visibility_selectors.account_queryset(tenant=tenant, membership=people[role])
        assert set(seen.values_list("name", flat=True)) == VISIBLE[role]
        editable = visibility_selectors.account_queryset(
            tenant=tenant, membership=people[role], for_edit=True
        )
        assert set(editable.values_list("name", flat=True)) == EDITABLE[role]


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_account_pages_and_api_follow_visibility(tenant, world, role, client_for, api_client_for):
    people, accounts = world
    client = client_for(people[role])
    api = api_client_for(people[role])
    for name, account in accounts.items():
        page = client.get(reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk}))
        api_response = api.get(f"/api/v1/t/{tenant.slug}/accounts/{account.pk}/")
        expected = 200 if name in VISIBLE[role] else 404
        assert (page.status_code, api_response.status_code) == (expected, expected), name
        edit = client.get(reverse("accounts:account-edit", kwargs={"slug": tenant.slug, "pk": account.pk}))
        assert edit.status_code == (200 if name in EDITABLE[role] else 404), name
    listed = api.get(f"/api/v1/t/{tenant.slug}/accounts/").json()["results"]
    assert {row["name"] for row in listed} == VISIBLE[role]
    page = client.get(reverse("accounts:account-list", kwargs={"slug": tenant.slug}))
    assert page.context["count"] == len(VISIBLE[role])


def test_read_only_share_cannot_be_changed(tenant, world, client_for, api_client_for):
    people, accounts = world
    shared = accounts["shared_read"]
    body = client_for(people["rep"]).get(
        reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": shared.pk})
    )
    assert 'data-testid="read-only"' in body.content.decode()
    assert 'data-testid="account-edit"' not in body.content.decode()
    api = api_client_for(people["rep"])
    response = api.patch(
        f"/api/v1/t/{tenant.slug}/accounts/{shared.pk}/", {"version": 1, "name": "x"}, format="json"
    )
    assert response.status_code == 403
    assert api.delete(f"/api/v1/t/{tenant.slug}/accounts/{shared.pk}/").status_code == 403
    post = client_for(people["rep"]).post(
        reverse("accounts:account-delete", kwargs={"slug": tenant.slug, "pk": shared.pk})
    )
    assert post.status_code == 404


def test_contacts_follow_their_account(tenant, world):
    people, accounts = world
    visible = ContactFactory(account=accounts["shared_read"], last_name="on_shared")
    hidden = ContactFactory(account=accounts["west_own"], last_name="on_west")
    rep_orphan = ContactFactory(tenant=tenant, account=None, owner=people["rep"].user, last_name="rep_orphan")
    west_orphan = ContactFactory(
        tenant=tenant, account=None, owner=people["west"].user, last_name="west_orphan"
    )
    with tenant_context(tenant):
        rep_sees = set(
            visibility_selectors.contact_queryset(tenant=tenant, membership=people["rep"]).values_list(
                "last_name", flat=True
            )
        )
        assert {"on_shared", "rep_orphan"} <= rep_sees
        assert not {"on_west", "west_orphan"} & rep_sees
        rep_edits = set(
            visibility_selectors.contact_queryset(
                tenant=tenant, membership=people["rep"], for_edit=True
            ).values_list("last_name", flat=True)
        )
        assert "on_shared" not in rep_edits and "rep_orphan" in rep_edits
        manager_sees = visibility_selectors.contact_queryset(tenant=tenant, membership=people["manager"])
        assert (
            manager_sees.filter(pk=rep_orphan.pk).exists()
            and not manager_sees.filter(pk=west_orphan.pk).exists()
        )
        cs_sees = visibility_selectors.contact_queryset(tenant=tenant, membership=people["cs"])
        assert not cs_sees.filter(pk__in=[visible.pk, hidden.pk]).exists()
        assert (
            visibility_selectors.contact_queryset(tenant=tenant, membership=people["ops"])
            .filter(pk=hidden.pk)
            .exists()
        )


def test_form_choices_and_filters_offer_only_visible_records(tenant, other_tenant, world, client_for):
    people, accounts = world
    client = client_for(people["rep"])
    url = reverse("accounts:account-create", kwargs={"slug": tenant.slug})
    response = client.post(url, {"name": "Child", "tier": "standard", "parent": accounts["west_own"].pk})
    assert response.status_code == 200 and "parent" in response.context["form"].errors
    picker = client.get(reverse("accounts:account-picker", kwargs={"slug": tenant.slug}) + "?q=own&target=x")
    assert "rep_own" in picker.content.decode() and "west_own" not in picker.content.decode()
    from tests.factories import TeamFactory

    foreign_team = TeamFactory(tenant=other_tenant, name="Foreign")
    listed = client.get(
        reverse("accounts:account-list", kwargs={"slug": tenant.slug}) + f"?team={foreign_team.pk}"
    )
    assert listed.context["count"] == 0 and listed.context["form"].errors


def test_duplicates_never_reveal_invisible_accounts(tenant, world):
    people, accounts = world
    with tenant_context(tenant):
        found = duplicates_selectors.account_duplicates(
            tenant=tenant, name="west_own", membership=people["rep"]
        )
        assert accounts["west_own"] not in found
        found = duplicates_selectors.account_duplicates(
            tenant=tenant, name="west_own", membership=people["west"]
        )
        assert accounts["west_own"] in found
        assert accounts["west_own"] in duplicates_selectors.account_duplicates(tenant=tenant, name="west_own")


def test_activity_visibility(tenant, world):
    people, accounts = world
    west_call = ActivityFactory(account=accounts["west_own"], owner=people["west"].user)
    with tenant_context(tenant):
        rep_sees = visibility_selectors.activity_queryset(tenant=tenant, membership=people["rep"])
        assert not rep_sees.filter(pk=west_call.pk).exists()
        assert (
            visibility_selectors.activity_queryset(tenant=tenant, membership=people["west"])
            .filter(pk=west_call.pk)
            .exists()
        )
        assert (
            visibility_selectors.activity_queryset(tenant=tenant, membership=people["ops"])
            .filter(pk=west_call.pk)
            .exists()
        )


def test_undo_banner_ids_that_are_not_decimal_numbers_find_nothing(tenant, admin_member, client_for):
    # "²" passes str.isdigit() but int() refuses it: it must behave like any other id that does not exist.
    with tenant_context(tenant):
        assert (
            accounts_selectors.account_deleted_get(tenant=tenant, membership=admin_member, pk="\u00b2")
            is None
        )
        assert (
            contacts_selectors.contact_deleted_get(tenant=tenant, membership=admin_member, pk="\u00b2")
            is None
        )
        assert (
            merges_selectors.merge_record_for_banner(
                tenant=tenant, pk="\u00b2", entity="account", survivor_id=1
            )
            is None
        )
    page = client_for(admin_member).get(
        reverse("accounts:account-list", kwargs={"slug": tenant.slug}), {"deleted": "\u00b2"}
    )
    assert page.status_code == 200
