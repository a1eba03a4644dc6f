"""Pages of the tenancy core: sign-up, login, membership and role guards, invitations, members, settings,
the tenant switcher and the language switcher."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from crm import services
from crm.models import ApiToken, Invitation, Membership, MembershipStatus, Role, Team, Tenant, User
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-harbour-7319"
NON_ADMIN_ROLES = [Role.SALES_MANAGER, Role.SALES_REP, Role.OPS, Role.CS]


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "company_name": "Gamma Trading 伽马",
        "slug": "gamma",
        "time_zone": "Asia/Shanghai",
        "currency": "CNY",
        "default_locale": "en",
        "admin_name": "Grace Gamma",
        "admin_email": "grace@gamma.test",
        "admin_password": STRONG_PASSWORD,
    }
    data.update(overrides)
    return data


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def membership_of(user: User, tenant: Tenant) -> Membership:
    with tenant_context(tenant):
        return Membership.objects.select_related("team").get(user=user)


# --- Sign-up ---------------------------------------------------------------------------------------------------


def test_signup_page_renders():
    response = Client().get("/signup/")
    assert response.status_code == 200
    content = response.content.decode()
    for field in ("company_name", "slug", "time_zone", "currency", "admin_email", "admin_password"):
        assert f'name="{field}"' in content


def test_signup_creates_tenant_and_admin_and_logs_in():
    client = Client()
    response = client.post("/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/t/gamma/"
    tenant = Tenant.objects.get(slug="gamma")
    assert (tenant.name, tenant.time_zone, tenant.currency) == ("Gamma Trading 伽马", "Asia/Shanghai", "CNY")
    user = User.objects.get(email="grace@gamma.test")
    assert user.full_name == "Grace Gamma"
    assert user.check_password(STRONG_PASSWORD)
    membership = membership_of(user, tenant)
    assert (membership.role, membership.status) == (Role.ADMIN, MembershipStatus.ACTIVE)
    assert logged_in_user_id(client) == user.pk
    assert client.get("/t/gamma/").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "This address is reserved"),
        ("api", "This address is reserved"),
        ("alpha", "This address is taken"),
    ],
)
def test_signup_refuses_reserved_or_taken_slug_and_keeps_typed_values(tenant, slug, message):
    client = Client()
    response = client.post("/signup/", signup_data(slug=slug))
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'value="Gamma Trading 伽马"' in content
    assert 'value="grace@gamma.test"' in content
    assert 'value="Grace Gamma"' in content
    assert f'value="{slug}"' in content
    assert not User.objects.filter(email="grace@gamma.test").exists()
    assert Tenant.objects.count() == 1
    assert logged_in_user_id(client) is None


def test_signup_rejects_weak_password():
    response = Client().post("/signup/", signup_data(admin_password="12345"))
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not Tenant.objects.filter(slug="gamma").exists()
    assert not User.objects.filter(email="grace@gamma.test").exists()


def test_signup_with_existing_email_needs_that_accounts_password(admin_member):
    response = Client().post(
        "/signup/", signup_data(admin_email=admin_member.user.email, admin_password="another-strong-pass-55")
    )
    assert response.status_code == 200
    assert "This email already has an account" in response.content.decode()
    assert not Tenant.objects.filter(slug="gamma").exists()


# --- Login, logout, home -----------------------------------------------------------------------------------------


def test_login_with_email_lands_on_first_tenant(admin_member):
    client = Client()
    response = client.post("/login/", {"username": "ADMIN@alpha.test", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1] == ("/t/alpha/", 302)
    assert response.status_code == 200
    assert logged_in_user_id(client) == admin_member.user_id


def test_login_with_wrong_password_fails(admin_member):
    client = Client()
    response = client.post("/login/", {"username": "admin@alpha.test", "password": "wrong-password-1"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_login_is_throttled_after_the_failure_limit(settings, admin_member):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _attempt in range(2):
        response = client.post("/login/", {"username": "admin@alpha.test", "password": "wrong-password-1"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": "admin@alpha.test", "password": "wrong-password-1"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post("/login/", {"username": "admin@alpha.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_signup_with_an_existing_email_is_throttled_like_login(settings, admin_member):
    """Sign-up of a second company by an existing account checks its password through the login throttle, so the
    page cannot be used to guess passwords without limit."""
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    guess = {"admin_email": "admin@alpha.test", "admin_password": "Wrong-horse-battery-9"}
    for _attempt in range(2):
        response = client.post("/signup/", signup_data(**guess))
        assert response.status_code == 200
        assert "This email already has an account; enter its password." in response.content.decode()
    response = client.post("/signup/", signup_data(**guess))
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    response = client.post("/signup/", signup_data(admin_email="admin@alpha.test", admin_password=PASSWORD))
    assert response.status_code == 429
    assert not Tenant.objects.filter(slug="gamma").exists()
    assert logged_in_user_id(client) is None


def test_signup_of_a_second_company_with_the_right_password(admin_member):
    client = Client()
    response = client.post("/signup/", signup_data(admin_email="admin@alpha.test", admin_password=PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == "/t/gamma/"
    assert membership_of(admin_member.user, Tenant.objects.get(slug="gamma")).role == Role.ADMIN


def test_logout_ends_the_session(admin_member, client_for):
    client = client_for(admin_member)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert logged_in_user_id(client) is None
    assert client.get("/t/alpha/")["Location"] == "/login/?next=/t/alpha/"


def test_home_redirects_anonymous_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_home_redirects_to_first_tenant_by_name(tenant, other_tenant, member, client_for):
    # "Beta" sorts before "Zeta": rename alpha so the first tenant by name is beta.
    Tenant.objects.filter(pk=tenant.pk).update(name="Zeta")
    membership = member(role=Role.SALES_REP)
    MembershipFactory(tenant=other_tenant, user=membership.user, role=Role.CS)
    response = client_for(membership).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/t/beta/"


def test_home_skips_deactivated_memberships(tenant, other_tenant, member, client_for):
    membership = member(role=Role.SALES_REP)
    MembershipFactory(
        tenant=other_tenant, user=membership.user, role=Role.CS, status=MembershipStatus.DEACTIVATED
    )
    Tenant.objects.filter(pk=tenant.pk).update(name="Zeta")
    response = client_for(membership).get("/")
    assert response["Location"] == "/t/alpha/"


def test_user_without_tenant_sees_no_tenant_page(db):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert "You are not in any company yet" in response.content.decode()
    response = client.get("/no-tenant/")
    assert response.status_code == 200
    assert "You are not in any company yet" in response.content.decode()


def test_no_tenant_page_needs_login(db):
    response = Client().get("/no-tenant/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- Membership and role guards ---------------------------------------------------------------------------------

TENANT_PAGES = ["/t/{slug}/", "/t/{slug}/members/", "/t/{slug}/settings/", "/t/{slug}/api-tokens/"]
TENANT_API = ["/api/v1/t/{slug}/me/", "/api/v1/t/{slug}/members/"]


@pytest.mark.parametrize("path", TENANT_PAGES + TENANT_API)
def test_non_member_gets_same_404_for_existing_and_missing_tenant(tenant, other_tenant, path, client_for):
    with tenant_context(other_tenant):
        outsider = Membership.objects.select_related("user").get(role=Role.ADMIN)
    client = client_for(outsider)
    existing = client.get(path.format(slug=tenant.slug))
    missing = client.get(path.format(slug="no-such-company"))
    assert existing.status_code == 404
    assert missing.status_code == 404
    # The 404 page sits in the layout, whose CSRF token is masked anew on every render (a random value that says
    # nothing about the tenant): compare the pages with the tokens and the requested address blanked, everything
    # else byte for byte.
    assert _without_csrf(existing.content) == _without_csrf(missing.content)


def _without_csrf(content: bytes) -> bytes:
    content = re.sub(
        rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken" value=""', content
    )
    content = re.sub(rb'"X-CSRFToken": "[^"]*"', b'"X-CSRFToken": ""', content)
    # The language switcher returns to the address asked for, which differs by the slug typed and nothing else.
    return re.sub(rb'name="next" value="[^"]*"', b'name="next" value=""', content)


@pytest.mark.parametrize("path", TENANT_PAGES + ["/t/{slug}/members/{pk}/"])
def test_member_of_other_tenant_gets_404_on_pages(tenant, other_tenant, admin_member, path, client_for):
    outsider = MembershipFactory(tenant=other_tenant, role=Role.ADMIN)
    url = path.format(slug=tenant.slug, pk=admin_member.pk)
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).post(url, {"role": Role.ADMIN}).status_code == 404


@pytest.mark.parametrize("path", TENANT_PAGES)
def test_anonymous_page_request_redirects_to_login(tenant, path):
    for slug in (tenant.slug, "no-such-company"):
        url = path.format(slug=slug)
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("path", TENANT_API)
def test_anonymous_api_request_gets_401(tenant, path):
    for slug in (tenant.slug, "no-such-company"):
        response = Client().get(path.format(slug=slug))
        assert response.status_code == 401


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_non_admin_gets_404_on_admin_pages(tenant, admin_member, member, client_for, role):
    client = client_for(member(role=role))
    assert client.get(f"/t/{tenant.slug}/").status_code == 200
    assert client.get(f"/t/{tenant.slug}/api-tokens/").status_code == 200
    for url in (
        f"/t/{tenant.slug}/members/",
        f"/t/{tenant.slug}/members/{admin_member.pk}/",
        f"/t/{tenant.slug}/settings/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"email": "x@example.test", "role": Role.ADMIN}).status_code == 404
    assert membership_of(admin_member.user, tenant).role == Role.ADMIN


def test_admin_menu_only_for_admins(tenant, admin_member, member, client_for):
    admin_page = client_for(admin_member).get(f"/t/{tenant.slug}/").content.decode()
    rep_page = client_for(member(role=Role.SALES_REP)).get(f"/t/{tenant.slug}/").content.decode()
    assert f'href="/t/{tenant.slug}/members/"' in admin_page
    assert f'href="/t/{tenant.slug}/members/"' not in rep_page
    assert f'href="/t/{tenant.slug}/settings/"' not in rep_page


def test_inactive_tenant_is_404(tenant, admin_member, client_for):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    assert client_for(admin_member).get(f"/t/{tenant.slug}/").status_code == 404


# --- Invitations --------------------------------------------------------------------------------------------------


def invite_by_page(
    client: Client, tenant: Tenant, email: str, role: str = Role.SALES_REP, team: str = "East"
):
    return client.post(f"/t/{tenant.slug}/members/", {"email": email, "role": role, "team": team})


def invitation_path(link: str) -> str:
    return urlparse(link).path


def test_admin_invites_by_page_and_email_is_sent(
    tenant, admin_member, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite_by_page(client_for(admin_member), tenant, "New.Person@Example.test")
    assert response.status_code == 200
    with tenant_context(tenant):
        membership = Membership.objects.select_related("user", "team").get(
            user__email="new.person@example.test"
        )
        invitation = Invitation.objects.get(membership=membership)
        assert Team.objects.filter(name="East").count() == 1
    assert (membership.role, membership.status, membership.team.name) == (
        Role.SALES_REP,
        MembershipStatus.INVITED,
        "East",
    )
    assert not membership.user.has_usable_password()
    content = response.content.decode()
    assert 'data-testid="invitation-link"' in content
    assert f"/invite/{tenant.slug}/{invitation.token}/" in content
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.test"]
    assert f"/invite/{tenant.slug}/{invitation.token}/" in mailoutbox[0].body


def test_invite_reuses_existing_team(tenant, admin_member, member, client_for):
    member(team="East")
    invite_by_page(client_for(admin_member), tenant, "second@example.test", team="East")
    with tenant_context(tenant):
        assert Team.objects.filter(name="East").count() == 1
        assert Membership.objects.get(user__email="second@example.test").team.name == "East"


def test_invite_of_active_member_is_refused(tenant, admin_member, member, client_for):
    existing = member(role=Role.CS)
    response = invite_by_page(client_for(admin_member), tenant, existing.user.email)
    assert response.status_code == 200
    assert "This person is already a member." in response.content.decode()
    assert membership_of(existing.user, tenant).role == Role.CS


def make_invitation(tenant: Tenant, email: str, role: str = Role.SALES_REP, team: str | None = "East"):
    with tenant_context(tenant):
        actor = Membership.objects.select_related("user").get(role=Role.ADMIN).user
        return services.member_invite(tenant=tenant, actor=actor, email=email, role=role, team_name=team)


def test_accepting_invitation_sets_password_activates_and_logs_in(tenant):
    membership, invitation = make_invitation(tenant, "newbie@example.test")
    path = invitation_path(services.invitation_url(invitation, tenant))
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode()
    response = client.post(path, {"full_name": "Nina Newbie", "password": STRONG_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.slug}/"
    membership = membership_of(membership.user, tenant)
    assert membership.status == MembershipStatus.ACTIVE
    user = User.objects.get(pk=membership.user_id)
    assert user.full_name == "Nina Newbie"
    assert user.check_password(STRONG_PASSWORD)
    assert logged_in_user_id(client) == user.pk
    assert client.get(f"/t/{tenant.slug}/").status_code == 200
    with tenant_context(tenant):
        assert Invitation.objects.get(pk=invitation.pk).accepted_at is not None


def test_accepting_invitation_rejects_weak_password(tenant):
    membership, invitation = make_invitation(tenant, "newbie@example.test")
    path = invitation_path(services.invitation_url(invitation, tenant))
    response = Client().post(path, {"full_name": "Nina", "password": "123"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert membership_of(membership.user, tenant).status == MembershipStatus.INVITED


def test_expired_invitation_is_refused(tenant):
    membership, invitation = make_invitation(tenant, "late@example.test")
    with tenant_context(tenant):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    path = invitation_path(services.invitation_url(invitation, tenant))
    client = Client()
    assert "This invitation has expired or was already used." in client.get(path).content.decode()
    response = client.post(path, {"full_name": "Late", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert "This invitation has expired or was already used." in response.content.decode()
    assert membership_of(membership.user, tenant).status == MembershipStatus.INVITED
    assert logged_in_user_id(client) is None


def test_used_invitation_is_refused(tenant):
    membership, invitation = make_invitation(tenant, "once@example.test")
    path = invitation_path(services.invitation_url(invitation, tenant))
    assert Client().post(path, {"full_name": "Once", "password": STRONG_PASSWORD}).status_code == 302
    client = Client()
    response = client.post(path, {"full_name": "Twice", "password": "another-strong-pass-55"})
    assert response.status_code == 200
    assert "This invitation has expired or was already used." in response.content.decode()
    user = User.objects.get(pk=membership.user_id)
    assert user.full_name == "Once"
    assert user.check_password(STRONG_PASSWORD)
    assert logged_in_user_id(client) is None


def test_existing_user_must_log_in_before_accepting(tenant, other_tenant):
    with tenant_context(other_tenant):
        existing = Membership.objects.select_related("user").get(role=Role.ADMIN).user
    membership, invitation = make_invitation(tenant, existing.email, role=Role.OPS)
    path = invitation_path(services.invitation_url(invitation, tenant))
    anonymous = Client()
    page = anonymous.get(path).content.decode()
    assert "Log in first" in page
    assert 'name="password"' not in page
    response = anonymous.post(path, {"full_name": "Hijack", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert "log in first" in response.content.decode()
    assert membership_of(existing, tenant).status == MembershipStatus.INVITED
    assert User.objects.get(pk=existing.pk).check_password(PASSWORD)

    logged_in = Client()
    logged_in.force_login(existing)
    response = logged_in.post(path)
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.slug}/"
    assert membership_of(existing, tenant).status == MembershipStatus.ACTIVE
    assert User.objects.get(pk=existing.pk).check_password(PASSWORD)


def test_invitation_for_someone_else_is_refused(tenant, member, client_for):
    membership, invitation = make_invitation(tenant, "someone@example.test")
    path = invitation_path(services.invitation_url(invitation, tenant))
    other = member(role=Role.SALES_REP)
    response = client_for(other).post(path, {"full_name": "X", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert "This invitation is for someone@example.test." in response.content.decode()
    assert membership_of(membership.user, tenant).status == MembershipStatus.INVITED


def test_invitation_of_a_deactivated_member_is_refused(tenant, admin_member):
    membership, invitation = make_invitation(tenant, "gone@example.test")
    with tenant_context(tenant):
        services.membership_update(
            tenant=tenant, actor=admin_member.user, membership=membership, status=MembershipStatus.DEACTIVATED
        )
    path = invitation_path(services.invitation_url(invitation, tenant))
    client = Client()
    response = client.post(path, {"full_name": "Gone", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert membership_of(membership.user, tenant).status == MembershipStatus.DEACTIVATED
    assert logged_in_user_id(client) is None


def test_invitation_link_with_other_tenants_slug_is_404(tenant, other_tenant):
    _membership, invitation = make_invitation(other_tenant, "beta-invitee@example.test")
    response = Client().get(f"/invite/{tenant.slug}/{invitation.token}/")
    assert response.status_code == 404
    response = Client().post(
        f"/invite/{tenant.slug}/{invitation.token}/", {"full_name": "X", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 404
    assert Client().get("/invite/no-such-company/whatever/").status_code == 404
    assert Client().get(f"/invite/{tenant.slug}/not-a-token/").status_code == 404


# --- Member edit ----------------------------------------------------------------------------------------------


def test_admin_changes_role_team_and_status(tenant, admin_member, member, client_for):
    target = member(role=Role.SALES_REP, team="East")
    client = client_for(admin_member)
    url = f"/t/{tenant.slug}/members/{target.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert target.user.email in page.content.decode()
    response = client.post(
        url, {"role": Role.SALES_MANAGER, "team": "West", "status": MembershipStatus.ACTIVE}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.slug}/members/"
    updated = membership_of(target.user, tenant)
    assert (updated.role, updated.team.name, updated.status) == (
        Role.SALES_MANAGER,
        "West",
        MembershipStatus.ACTIVE,
    )
    response = client.post(url, {"role": Role.SALES_MANAGER, "team": "", "status": MembershipStatus.ACTIVE})
    assert response.status_code == 302
    assert membership_of(target.user, tenant).team is None


def test_invited_member_cannot_be_activated_by_admin(tenant, admin_member, client_for):
    membership, _invitation = make_invitation(tenant, "pending@example.test")
    response = client_for(admin_member).post(
        f"/t/{tenant.slug}/members/{membership.pk}/",
        {"role": Role.SALES_REP, "team": "", "status": MembershipStatus.ACTIVE},
    )
    assert response.status_code == 200
    assert "becomes active by accepting the invitation" in response.content.decode()
    assert membership_of(membership.user, tenant).status == MembershipStatus.INVITED


@pytest.mark.parametrize(
    "change",
    [
        {"role": Role.SALES_REP, "status": MembershipStatus.ACTIVE},
        {"role": Role.ADMIN, "status": MembershipStatus.DEACTIVATED},
    ],
)
def test_last_admin_cannot_be_demoted_or_deactivated(tenant, admin_member, client_for, change):
    response = client_for(admin_member).post(
        f"/t/{tenant.slug}/members/{admin_member.pk}/", {"team": "", **change}
    )
    assert response.status_code == 200
    assert "A tenant needs at least one active admin." in response.content.decode()
    unchanged = membership_of(admin_member.user, tenant)
    assert (unchanged.role, unchanged.status) == (Role.ADMIN, MembershipStatus.ACTIVE)


def test_an_admin_can_be_demoted_when_another_admin_remains(tenant, admin_member, member, client_for):
    second = member(role=Role.ADMIN)
    response = client_for(second).post(
        f"/t/{tenant.slug}/members/{admin_member.pk}/",
        {"role": Role.OPS, "team": "", "status": MembershipStatus.ACTIVE},
    )
    assert response.status_code == 302
    assert membership_of(admin_member.user, tenant).role == Role.OPS
    assert client_for(admin_member).get(f"/t/{tenant.slug}/members/").status_code == 404


def test_deactivated_member_gets_404_and_loses_tokens(
    tenant, admin_member, member, client_for, api_client_for
):
    target = member(role=Role.SALES_REP)
    target_client = client_for(target)
    target_api = api_client_for(target)
    assert target_client.get(f"/t/{tenant.slug}/").status_code == 200
    assert target_api.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    response = client_for(admin_member).post(
        f"/t/{tenant.slug}/members/{target.pk}/",
        {"role": Role.SALES_REP, "team": "", "status": MembershipStatus.DEACTIVATED},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=target.user).exists()
    assert target_client.get(f"/t/{tenant.slug}/").status_code == 404
    assert target_client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 404
    assert target_api.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 401


def test_member_list_shows_members_and_open_invitation_links(tenant, admin_member, member, client_for):
    rep = member(role=Role.SALES_REP, team="East")
    _membership, invitation = make_invitation(tenant, "pending@example.test")
    content = client_for(admin_member).get(f"/t/{tenant.slug}/members/").content.decode()
    assert content.count('data-testid="member-row"') == 3
    for email in (admin_member.user.email, rep.user.email, "pending@example.test"):
        assert email in content
    assert f"/invite/{tenant.slug}/{invitation.token}/" in content


# --- Tenant switcher and language -------------------------------------------------------------------------------


def switcher_links(content: str) -> list[str]:
    match = re.search(r'data-testid="tenant-switcher">(.*?)</div>', content, re.S)
    assert match, "tenant switcher missing"
    return re.findall(r'class="dropdown-item[^"]*" href="(/t/[^"]+)"', match.group(1))


def test_tenant_switcher_lists_every_tenant_of_the_user(tenant, other_tenant, member, client_for):
    membership = member(role=Role.SALES_REP)
    MembershipFactory(tenant=other_tenant, user=membership.user, role=Role.CS)
    client = client_for(membership)
    for slug in (tenant.slug, other_tenant.slug):
        response = client.get(f"/t/{slug}/")
        assert response.status_code == 200
        assert sorted(switcher_links(response.content.decode())) == ["/t/alpha/", "/t/beta/"]


def test_tenant_switcher_hides_other_users_tenants(tenant, other_tenant, member, client_for):
    content = client_for(member(role=Role.SALES_REP)).get(f"/t/{tenant.slug}/").content.decode()
    assert switcher_links(content) == ["/t/alpha/"]
    assert "Beta" not in content


def test_switch_redirects_to_tenant_or_home(tenant, admin_member, client_for):
    client = client_for(admin_member)
    assert client.get("/switch/?to=alpha")["Location"] == "/t/alpha/"
    assert client.get("/switch/")["Location"] == "/"
    assert client.get("/switch/?to=not%20a%20slug")["Location"] == "/"


def test_language_switch_saves_user_language_and_cookie(tenant, admin_member, client_for):
    client = client_for(admin_member)
    response = client.post("/language/", {"language": "zh-hans", "next": f"/t/{tenant.slug}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.slug}/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert User.objects.get(pk=admin_member.user_id).language == "zh-hans"
    page = client.get(f"/t/{tenant.slug}/").content.decode()
    assert '<html lang="zh-hans">' in page


def test_saved_language_follows_the_user_to_a_new_device(tenant, admin_member, client_for):
    User.objects.filter(pk=admin_member.user_id).update(language="zh-hans")
    page = client_for(admin_member).get(f"/t/{tenant.slug}/").content.decode()
    assert '<html lang="zh-hans">' in page


def test_language_switch_anonymous_sets_cookie_and_ignores_unsafe_next(db):
    client = Client()
    response = client.post("/language/", {"language": "zh-hans", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/login/").content.decode()


def test_language_switch_ignores_unknown_language(tenant, admin_member, client_for):
    response = client_for(admin_member).post("/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.get(pk=admin_member.user_id).language == "en"


def test_language_switch_needs_post(db):
    assert Client().get("/language/").status_code == 405


# --- Tenant settings ---------------------------------------------------------------------------------------------


def test_admin_edits_tenant_settings(tenant, admin_member, client_for):
    client = client_for(admin_member)
    assert client.get(f"/t/{tenant.slug}/settings/").status_code == 200
    response = client.post(
        f"/t/{tenant.slug}/settings/",
        {
            "name": "Alpha Renamed",
            "time_zone": "Europe/Paris",
            "currency": "EUR",
            "fiscal_year_start_month": "4",
            "default_locale": "zh-hans",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/t/{tenant.slug}/settings/"
    tenant.refresh_from_db()
    assert (
        tenant.name,
        tenant.time_zone,
        tenant.currency,
        tenant.fiscal_year_start_month,
        tenant.default_locale,
    ) == ("Alpha Renamed", "Europe/Paris", "EUR", 4, "zh-hans")
    assert tenant.slug == "alpha"


def test_tenant_settings_reject_bad_currency(tenant, admin_member, client_for):
    response = client_for(admin_member).post(
        f"/t/{tenant.slug}/settings/",
        {
            "name": "Alpha Renamed",
            "time_zone": "Europe/Paris",
            "currency": "XYZ",
            "fiscal_year_start_month": "4",
            "default_locale": "en",
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Select a valid choice" in content
    assert 'value="Alpha Renamed"' in content
    tenant.refresh_from_db()
    assert (tenant.name, tenant.currency) == ("Alpha", "CNY")


# --- API tokens page -----------------------------------------------------------------------------------------------


def test_api_tokens_page_creates_a_token_for_this_tenant(tenant, member, client_for):
    membership = member(role=Role.SALES_REP)
    response = client_for(membership).post(f"/t/{tenant.slug}/api-tokens/")
    assert response.status_code == 200
    key = re.search(r'<code class="user-select-all">([0-9a-f]+)</code>', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=membership.user)
    assert token.tenant_id == tenant.pk
    assert token.key_hash != key
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/v1/t/{tenant.slug}/me/").json()["email"] == membership.user.email


# --- Query budget ---------------------------------------------------------------------------------------------------


def test_member_list_page_query_count_is_constant(
    tenant, admin_member, member, client_for, django_assert_num_queries
):
    for index in range(3):
        member(role=Role.SALES_REP, team=f"Team {index}")
    make_invitation(tenant, "pending1@example.test")
    client = client_for(admin_member)
    client.get(f"/t/{tenant.slug}/members/")  # warm the session
    with django_assert_num_queries(11):
        assert client.get(f"/t/{tenant.slug}/members/").status_code == 200
    for index in range(5):
        member(role=Role.CS, team=f"Other {index}")
    make_invitation(tenant, "pending2@example.test")
    with django_assert_num_queries(11):
        assert client.get(f"/t/{tenant.slug}/members/").status_code == 200
