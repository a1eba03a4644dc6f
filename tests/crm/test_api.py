"""API of the tenancy core: token auth, members, me, and the OpenAPI schema and docs."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from crm import services
from crm.models import ApiToken, Invitation, Membership, MembershipStatus, Role, Team
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """The token endpoint is throttled per client address in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


def obtain_token(email: str, password: str, tenant: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": password, "tenant": tenant}, format="json"
    )


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def membership_of(user, tenant) -> Membership:
    with tenant_context(tenant):
        return Membership.objects.select_related("team").get(user=user)


# --- Token auth -------------------------------------------------------------------------------------------------


def test_token_for_email_password_and_tenant(tenant, admin_member):
    response = obtain_token("Admin@Alpha.test", PASSWORD, tenant.slug)
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    key = response.json()["token"]
    token = ApiToken.objects.get(user=admin_member.user)
    assert token.tenant_id == tenant.pk
    assert token.key_hash != key  # only the hash is stored
    me = token_client(key).get(f"/api/v1/t/{tenant.slug}/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "admin@alpha.test"
    assert me.json()["role"] == Role.ADMIN
    assert token_client(key).get(f"/api/v1/t/{tenant.slug}/members/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize(
    ("email", "password", "slug"),
    [
        ("admin@alpha.test", "wrong-password-1", "alpha"),
        ("nobody@alpha.test", PASSWORD, "alpha"),
        ("admin@alpha.test", PASSWORD, "beta"),  # not a member of beta
        ("admin@alpha.test", PASSWORD, "no-such-company"),
    ],
)
def test_token_refused_for_bad_credentials_or_foreign_tenant(tenant, other_tenant, email, password, slug):
    response = obtain_token(email, password, slug)
    assert response.status_code == 400
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_token_refused_for_deactivated_membership(tenant, member):
    membership = member(role=Role.SALES_REP)
    with tenant_context(tenant):
        Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.DEACTIVATED)
    assert obtain_token(membership.user.email, PASSWORD, tenant.slug).status_code == 400


def test_token_request_validates_its_fields(db):
    response = APIClient().post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"email", "password", "tenant"}


def test_token_works_only_for_its_tenant(tenant, other_tenant, admin_member):
    # The user belongs to both tenants, but a token issued for alpha opens only alpha.
    MembershipFactory(tenant=other_tenant, user=admin_member.user, role=Role.ADMIN)
    key = obtain_token(admin_member.user.email, PASSWORD, tenant.slug).json()["token"]
    client = token_client(key)
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    for path in ("me/", "members/", f"members/{admin_member.pk}/"):
        response = client.get(f"/api/v1/t/{other_tenant.slug}/{path}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    response = client.post(
        f"/api/v1/t/{other_tenant.slug}/members/", {"email": "x@example.test", "role": "admin"}, format="json"
    )
    assert response.status_code == 404
    assert client.get("/api/v1/t/no-such-company/me/").status_code == 404


def test_token_of_other_tenant_member_gets_404(tenant, other_tenant, api_client_for):
    with tenant_context(other_tenant):
        outsider = Membership.objects.select_related("user", "tenant").get(role=Role.ADMIN)
    client = api_client_for(outsider)
    for slug in (tenant.slug, "no-such-company"):
        assert client.get(f"/api/v1/t/{slug}/me/").status_code == 404
        assert client.get(f"/api/v1/t/{slug}/members/").status_code == 404


@pytest.mark.parametrize("header", ["Token garbage", "Token ", "Bearer something", "Token a b"])
def test_garbage_token_gets_401(tenant, admin_member, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 401
    assert client.get(f"/api/v1/t/{tenant.slug}/members/").status_code == 401


def test_anonymous_api_gets_401(tenant):
    for path in ("me/", "members/"):
        response = APIClient().get(f"/api/v1/t/{tenant.slug}/{path}")
        assert response.status_code == 401
    assert APIClient().get("/api/v1/t/no-such-company/me/").status_code == 401


def test_token_of_deactivated_user_account_gets_401(tenant, member, api_client_for):
    membership = member(role=Role.SALES_REP)
    client = api_client_for(membership)
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 401


def test_session_login_also_works_on_the_api(tenant, member, client_for):
    membership = member(role=Role.CS)
    response = client_for(membership).get(f"/api/v1/t/{tenant.slug}/me/")
    assert response.status_code == 200
    assert response.json()["role"] == Role.CS


# --- Members -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.OPS, Role.CS])
def test_members_list_is_visible_to_every_member(tenant, admin_member, member, api_client_for, role):
    viewer = member(role=role, team="East")
    response = api_client_for(viewer).get(f"/api/v1/t/{tenant.slug}/members/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert {row["email"] for row in results} == {admin_member.user.email, viewer.user.email}
    row = next(r for r in results if r["email"] == viewer.user.email)
    assert set(row) == {"id", "email", "full_name", "role", "team", "status", "created_at"}
    assert (row["id"], row["role"], row["team"], row["status"]) == (viewer.pk, role, "East", "active")
    admin_row = next(r for r in results if r["email"] == admin_member.user.email)
    assert admin_row["team"] is None


def test_members_list_filters_by_role_and_status(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    member(role=Role.CS)
    client = api_client_for(admin_member)
    response = client.get(f"/api/v1/t/{tenant.slug}/members/", {"role": Role.SALES_REP})
    assert [row["id"] for row in response.json()["results"]] == [rep.pk]
    response = client.get(f"/api/v1/t/{tenant.slug}/members/", {"status": "invited"})
    assert response.json()["results"] == []


def test_members_list_hides_other_tenants_members(tenant, other_tenant, admin_member, api_client_for):
    MembershipFactory(tenant=other_tenant, role=Role.SALES_REP)
    response = api_client_for(admin_member).get(f"/api/v1/t/{tenant.slug}/members/")
    assert [row["email"] for row in response.json()["results"]] == [admin_member.user.email]


def test_member_detail(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    response = api_client_for(rep).get(f"/api/v1/t/{tenant.slug}/members/{admin_member.pk}/")
    assert response.status_code == 200
    assert response.json()["email"] == admin_member.user.email


def test_admin_invites_member_by_api(
    tenant, admin_member, api_client_for, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(admin_member).post(
            f"/api/v1/t/{tenant.slug}/members/",
            {"email": "Li.Lei@Example.test", "role": Role.SALES_REP, "team": "East"},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "li.lei@example.test"
    assert (body["role"], body["team"], body["status"]) == (Role.SALES_REP, "East", "invited")
    with tenant_context(tenant):
        membership = Membership.objects.get(user__email="li.lei@example.test")
        invitation = Invitation.objects.get(membership=membership)
        assert Team.objects.filter(name="East").count() == 1
    assert body["id"] == membership.pk
    assert body["invitation_url"].endswith(f"/invite/{tenant.slug}/{invitation.token}/")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["li.lei@example.test"]
    assert body["invitation_url"] in mailoutbox[0].body


def test_api_invite_without_team_and_into_existing_team(tenant, admin_member, member, api_client_for):
    member(team="East")
    client = api_client_for(admin_member)
    url = f"/api/v1/t/{tenant.slug}/members/"
    response = client.post(url, {"email": "a@example.test", "role": Role.CS}, format="json")
    assert response.status_code == 201
    assert response.json()["team"] is None
    response = client.post(url, {"email": "b@example.test", "role": Role.OPS, "team": "East"}, format="json")
    assert response.status_code == 201
    with tenant_context(tenant):
        assert Team.objects.filter(name="East").count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "role": Role.SALES_REP},
        {"email": "x@example.test", "role": "emperor"},
        {"role": Role.SALES_REP},
    ],
)
def test_api_invite_validates_input(tenant, admin_member, api_client_for, payload):
    response = api_client_for(admin_member).post(f"/api/v1/t/{tenant.slug}/members/", payload, format="json")
    assert response.status_code == 400
    with tenant_context(tenant):
        assert Membership.objects.count() == 1


def test_api_invite_of_active_member_is_400(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    response = api_client_for(admin_member).post(
        f"/api/v1/t/{tenant.slug}/members/", {"email": rep.user.email, "role": Role.ADMIN}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["This person is already a member."]}
    assert membership_of(rep.user, tenant).role == Role.SALES_REP


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SALES_REP, Role.OPS, Role.CS])
def test_non_admin_cannot_invite_or_edit_by_api(tenant, admin_member, member, api_client_for, role):
    # The member can see the tenant and its member list, so refusing the write is a 403, not a 404.
    client = api_client_for(member(role=role))
    response = client.post(
        f"/api/v1/t/{tenant.slug}/members/", {"email": "x@example.test", "role": Role.ADMIN}, format="json"
    )
    assert response.status_code == 403
    response = client.patch(
        f"/api/v1/t/{tenant.slug}/members/{admin_member.pk}/", {"role": Role.CS}, format="json"
    )
    assert response.status_code == 403
    with tenant_context(tenant):
        assert not Membership.objects.filter(user__email="x@example.test").exists()
    assert membership_of(admin_member.user, tenant).role == Role.ADMIN


def test_admin_patches_role_team_and_status(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    client = api_client_for(admin_member)
    url = f"/api/v1/t/{tenant.slug}/members/{rep.pk}/"
    response = client.patch(url, {"role": Role.SALES_MANAGER, "team": "North"}, format="json")
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["team"]) == (Role.SALES_MANAGER, "North")
    updated = membership_of(rep.user, tenant)
    assert (updated.role, updated.team.name, updated.status) == (Role.SALES_MANAGER, "North", "active")
    response = client.patch(url, {"team": ""}, format="json")
    assert response.status_code == 200
    assert response.json()["team"] is None
    assert membership_of(rep.user, tenant).role == Role.SALES_MANAGER


def test_api_deactivation_revokes_tokens_and_closes_the_tenant(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    rep_client = api_client_for(rep)
    assert rep_client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    response = api_client_for(admin_member).patch(
        f"/api/v1/t/{tenant.slug}/members/{rep.pk}/", {"status": "deactivated"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "deactivated"
    assert not ApiToken.objects.filter(user=rep.user).exists()
    assert rep_client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 401
    assert obtain_token(rep.user.email, PASSWORD, tenant.slug).status_code == 400


@pytest.mark.parametrize("change", [{"role": Role.OPS}, {"status": "deactivated"}])
def test_api_refuses_to_remove_the_last_admin(tenant, admin_member, api_client_for, change):
    response = api_client_for(admin_member).patch(
        f"/api/v1/t/{tenant.slug}/members/{admin_member.pk}/", change, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": ["A tenant needs at least one active admin."]}
    unchanged = membership_of(admin_member.user, tenant)
    assert (unchanged.role, unchanged.status) == (Role.ADMIN, "active")


def test_api_patch_validates_input(tenant, admin_member, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    response = api_client_for(admin_member).patch(
        f"/api/v1/t/{tenant.slug}/members/{rep.pk}/", {"role": "emperor"}, format="json"
    )
    assert response.status_code == 400
    assert membership_of(rep.user, tenant).role == Role.SALES_REP


def test_api_refuses_other_tenants_member_ids(tenant, other_tenant, admin_member, api_client_for):
    with tenant_context(other_tenant):
        theirs = Membership.objects.get(role=Role.ADMIN)
    client = api_client_for(admin_member)
    url = f"/api/v1/t/{tenant.slug}/members/{theirs.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"role": Role.CS}, format="json").status_code == 404
    assert membership_of(theirs.user, other_tenant).role == Role.ADMIN


def test_unsupported_methods_are_405_for_admin(tenant, admin_member, api_client_for):
    client = api_client_for(admin_member)
    assert client.delete(f"/api/v1/t/{tenant.slug}/members/{admin_member.pk}/").status_code == 405
    assert (
        client.put(f"/api/v1/t/{tenant.slug}/members/{admin_member.pk}/", {}, format="json").status_code
        == 405
    )
    assert client.post(f"/api/v1/t/{tenant.slug}/me/", {}, format="json").status_code == 405
    with tenant_context(tenant):
        assert Membership.objects.filter(pk=admin_member.pk).exists()


# --- Query budget ---------------------------------------------------------------------------------------------------


def test_members_api_query_count_is_constant(
    tenant, admin_member, member, api_client_for, django_assert_num_queries
):
    for index in range(3):
        member(role=Role.SALES_REP, team=f"Team {index}")
    client = api_client_for(admin_member)
    url = f"/api/v1/t/{tenant.slug}/members/"
    with django_assert_num_queries(9):
        assert len(client.get(url).json()["results"]) == 4
    for index in range(6):
        member(role=Role.CS, team=f"Other {index}")
    with django_assert_num_queries(9):
        assert len(client.get(url).json()["results"]) == 10


# --- OpenAPI ---------------------------------------------------------------------------------------------------------


def test_openapi_schema_lists_the_contract_routes(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "/api/v1/t/{slug}/members/" in schema["paths"]
    assert "/api/v1/t/{slug}/me/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/t/{slug}/members/"]


def test_openapi_docs_use_only_local_assets(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "/static/" in content
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", content), "docs page loads a remote asset"
    assert "http://" not in content and "https://" not in content
    script = APIClient().get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "https://" not in script.content.decode() and "http://" not in script.content.decode()


def test_services_issue_tokens_per_tenant(tenant, other_tenant, admin_member):
    key = services.api_token_create(tenant=tenant, user=admin_member.user)
    assert token_client(key).get(f"/api/v1/t/{other_tenant.slug}/me/").status_code == 404
