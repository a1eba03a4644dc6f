"""Issue 11 (hardening) through the API: the token throttle cannot be walked around (item 3), the owner rule holds
on every owned record (item 5), the 500s of item 6 are 400s, inviting reveals no other tenant's user (item 7)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, Activity, Contact, Opportunity, Stage
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.factories_accounts import AccountFactory, ActivityFactory, ContactFactory
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


def api(tenant, path):
    return f"/api/v1/t/{tenant.slug}/{path}"


# --- Item 3: the token throttle -----------------------------------------------------------------------------------


def _address() -> str:
    """An address of this test alone (the throttle counts live in the shared cache)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _try_token(email: str, *, remote_addr: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return APIClient().post(
        "/api/v1/auth/token/",
        {"email": email, "password": "wrong-password-1", "tenant": "alpha"},
        format="json",
        **extra,
    )


def test_a_new_x_forwarded_for_per_request_does_not_lift_the_token_throttle(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    address = _address()
    codes = [
        _try_token(
            f"{uuid.uuid4().hex}@alpha.test", remote_addr=address, forwarded_for=_address()
        ).status_code
        for _ in range(21)
    ]
    assert codes[:20] == [400] * 20
    assert codes[20] == 429


def test_behind_one_trusted_proxy_the_address_is_the_one_the_proxy_appended(db, settings):
    """The client may prepend anything; only the hop our proxy added counts."""
    settings.TRUSTED_PROXY_COUNT = 1
    client_address, proxy = _address(), _address()
    codes = [
        _try_token(
            f"{uuid.uuid4().hex}@alpha.test",
            remote_addr=proxy,
            forwarded_for=f"{_address()}, {client_address}",
        ).status_code
        for _ in range(21)
    ]
    assert codes[20] == 429
    # Another client behind the same proxy is not throttled by the first one's tries.
    other = _try_token(f"{uuid.uuid4().hex}@alpha.test", remote_addr=proxy, forwarded_for=_address())
    assert other.status_code == 400


def test_many_accounts_from_one_address_are_throttled(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    address = _address()
    codes = [
        _try_token(f"user{i}-{uuid.uuid4().hex}@alpha.test", remote_addr=address).status_code
        for i in range(25)
    ]
    assert 429 in codes and codes.index(429) == 20


def test_one_account_from_many_addresses_is_throttled(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    email = f"{uuid.uuid4().hex}@alpha.test"
    codes = [_try_token(email, remote_addr=_address()).status_code for _ in range(12)]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429
    # The account key is the email, whatever its case or surrounding spaces.
    assert _try_token(f"  {email.upper()} ", remote_addr=_address()).status_code == 429


def test_the_login_lock_out_uses_the_same_trusted_address(rf, settings):
    from crm.clientaddr import client_ip

    request = rf.get("/", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "192.0.2.9"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = (
        5  # more proxies than hops: the leftmost hop, never the client's own header
    )
    assert client_ip(request) == "203.0.113.1"
    assert settings.AXES_CLIENT_IP_CALLABLE == "crm.clientaddr.client_ip"


# --- Item 5: the owner rule on every owned record -------------------------------------------------------------------


@pytest.fixture
def team(member):
    """An East manager with a rep in East, a rep in West: each an active member."""
    return {
        "manager": member(role=Role.SALES_MANAGER, team="East"),
        "rep": member(role=Role.SALES_REP, team="East"),
        "peer": member(role=Role.SALES_REP, team="East"),
        "west": member(role=Role.SALES_REP, team="West"),
    }


def test_a_rep_cannot_create_records_for_someone_else(tenant, team, api_client_for):
    client = api_client_for(team["rep"])
    other = team["peer"].user.pk
    account = deal_account(tenant, owner=team["rep"].user)
    attempts = {
        "accounts/": {"name": "Given away", "owner": other},
        "contacts/": {"last_name": "Given away", "account": account.pk, "owner": other},
        "activities/": {"kind": "call", "subject": "Given away", "account": account.pk, "owner": other},
        "opportunities/": {"name": "Given away", "account": account.pk, "amount": "100", "owner": other},
    }
    for path, body in attempts.items():
        response = client.post(api(tenant, path), body, format="json")
        assert response.status_code == 400, (path, response.content)
        assert "owner" in response.json(), path
    with tenant_context(tenant):
        assert not Account.objects.filter(name="Given away").exists()
        assert not Contact.objects.filter(last_name="Given away").exists()
        assert not Activity.objects.filter(subject="Given away").exists()
        assert not Opportunity.objects.filter(name="Given away").exists()
    # Their own name is fine.
    mine = client.post(
        api(tenant, "accounts/"), {"name": "Mine", "owner": team["rep"].user.pk}, format="json"
    )
    assert mine.status_code == 201


def test_a_rep_cannot_hand_their_records_to_someone_else(tenant, team, api_client_for):
    rep = team["rep"]
    other = team["peer"].user.pk
    account = AccountFactory(tenant=tenant, owner=rep.user)
    contact = ContactFactory(tenant=tenant, account=account, owner=rep.user)
    activity = ActivityFactory(tenant=tenant, account=account, owner=rep.user)
    with tenant_context(tenant):
        deal = opportunities_services.opportunity_create(
            tenant=tenant, actor=rep.user, account=account, name="Deal", amount=Decimal("10")
        )
    client = api_client_for(rep)
    for path, version in (
        (f"accounts/{account.pk}/", account.version),
        (f"contacts/{contact.pk}/", contact.version),
        (f"activities/{activity.pk}/", None),
        (f"opportunities/{deal.pk}/", deal.version),
    ):
        body = {"owner": other}
        if version is not None:
            body["version"] = version
        response = client.patch(api(tenant, path), body, format="json")
        assert response.status_code == 400, (path, response.content)
        assert "owner" in response.json(), path
    with tenant_context(tenant):
        assert Account.objects.get(pk=account.pk).owner_id == rep.user.pk
        assert Contact.objects.get(pk=contact.pk).owner_id == rep.user.pk
        assert Activity.objects.get(pk=activity.pk).owner_id == rep.user.pk
        assert Opportunity.objects.get(pk=deal.pk).owner_id == rep.user.pk


def test_a_manager_assigns_within_their_team_only(tenant, team, api_client_for):
    client = api_client_for(team["manager"])
    in_team = client.post(
        api(tenant, "accounts/"), {"name": "East one", "owner": team["rep"].user.pk}, format="json"
    )
    assert in_team.status_code == 201
    account_id = in_team.json()["id"]
    outside = client.post(
        api(tenant, "accounts/"), {"name": "West one", "owner": team["west"].user.pk}, format="json"
    )
    assert outside.status_code == 400 and "owner" in outside.json()
    moved = client.patch(
        api(tenant, f"accounts/{account_id}/"), {"owner": team["west"].user.pk, "version": 1}, format="json"
    )
    assert moved.status_code == 400 and "owner" in moved.json()
    task = client.post(
        api(tenant, "activities/"),
        {"kind": "task", "subject": "For West", "account": account_id, "owner": team["west"].user.pk},
        format="json",
    )
    assert task.status_code == 400 and "owner" in task.json()
    task = client.post(
        api(tenant, "activities/"),
        {"kind": "task", "subject": "For East", "account": account_id, "owner": team["peer"].user.pk},
        format="json",
    )
    assert task.status_code == 201


def test_an_admin_assigns_to_anyone(tenant, team, admin_member, api_client_for):
    response = api_client_for(admin_member).post(
        api(tenant, "accounts/"), {"name": "Anyone's", "owner": team["west"].user.pk}, format="json"
    )
    assert response.status_code == 201


def test_a_contact_keeps_the_accounts_owner_by_default(tenant, team, api_client_for):
    """A rep who works on a colleague's account may add a contact: its default owner is the account's owner,
    which is not the rep's choice."""
    from accounts.models import AccountAccess
    from tests.factories_accounts import AccountMemberFactory

    account = AccountFactory(tenant=tenant, owner=team["peer"].user)
    AccountMemberFactory(tenant=tenant, account=account, user=team["rep"].user, access=AccountAccess.EDIT)
    response = api_client_for(team["rep"]).post(
        api(tenant, "contacts/"), {"last_name": "Wang", "account": account.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["owner"] == team["peer"].user.pk


# --- Item 6: other 500s -----------------------------------------------------------------------------------------------


def test_a_duplicate_deal_external_id_is_a_400(tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    account = deal_account(tenant, owner=rep.user)
    client = api_client_for(rep)
    body = {"name": "First", "account": account.pk, "amount": "100", "external_id": "CRM-1"}
    assert client.post(api(tenant, "opportunities/"), body, format="json").status_code == 201
    again = client.post(api(tenant, "opportunities/"), {**body, "name": "Second"}, format="json")
    assert again.status_code == 400 and "external_id" in again.json()
    other = client.post(
        api(tenant, "opportunities/"), {**body, "name": "Other", "external_id": "CRM-2"}, format="json"
    )
    assert other.status_code == 201
    clash = client.patch(
        api(tenant, f"opportunities/{other.json()['id']}/"),
        {"external_id": "CRM-1", "version": other.json()["version"]},
        format="json",
    )
    assert clash.status_code == 400 and "external_id" in clash.json()
    same = client.patch(
        api(tenant, f"opportunities/{other.json()['id']}/"),
        {"external_id": "CRM-2", "name": "Renamed", "version": other.json()["version"]},
        format="json",
    )
    assert same.status_code == 200


@pytest.mark.parametrize("amount", ["1e30", "Infinity", "-Infinity", "-9.4e73", "NaN", "sNaN", "1e16"])
def test_conversion_of_an_absurd_amount_is_a_400(tenant, admin_member, api_client_for, amount):
    response = api_client_for(admin_member).get(
        api(tenant, "exchange-rates/convert/"), {"amount": amount, "currency": "CNY"}
    )
    assert response.status_code == 400
    assert "amount" in response.json()


def test_conversion_of_a_sane_amount_still_works(tenant, admin_member, api_client_for):
    client = api_client_for(admin_member)
    response = client.get(
        api(tenant, "exchange-rates/convert/"), {"amount": "9999999999999999.99", "currency": "CNY"}
    )
    assert response.status_code == 200 and response.json()["value"] == "9999999999999999.99"
    response = client.get(
        api(tenant, "exchange-rates/convert/"), {"amount": "1", "currency": "CNY", "on_date": "0001-01-01"}
    )
    assert response.status_code == 400 and "on_date" in response.json()


@pytest.mark.parametrize(
    "body", ["[1, 2]", '"text"', "3", "true", '{"move_to": [1]}', '{"move_to": {"a": 1}}']
)
def test_deleting_a_stage_with_an_odd_body_is_a_400(tenant, admin_member, api_client_for, body):
    with tenant_context(tenant):
        stage = Stage.objects.filter(pipeline__is_default=True).order_by("order").first()
    response = api_client_for(admin_member).delete(
        api(tenant, f"stages/{stage.pk}/"), data=body, content_type="application/json"
    )
    assert response.status_code == 400
    with tenant_context(tenant):
        assert Stage.objects.filter(pk=stage.pk).exists()


# --- Item 7: inviting reveals no one ----------------------------------------------------------------------------------


def test_inviting_an_email_of_another_tenant_answers_like_any_other(
    tenant, other_tenant, admin_member, api_client_for
):
    known = UserFactory(email="known.person@beta.test", full_name="Zhang Secret")
    MembershipFactory(tenant=other_tenant, user=known, role=Role.SALES_REP)
    client = api_client_for(admin_member)
    answers = []
    for email in ("known.person@beta.test", "nobody.yet@beta.test"):
        response = client.post(api(tenant, "members/"), {"email": email, "role": "sales_rep"}, format="json")
        assert response.status_code == 201
        answers.append(response.json())
    first, second = answers
    assert "Zhang" not in str(first)
    assert first["full_name"] == second["full_name"] == ""
    assert set(first) == set(second)
    assert {k: v for k, v in first.items() if k not in {"id", "email", "invitation_url", "created_at"}} == {
        k: v for k, v in second.items() if k not in {"id", "email", "invitation_url", "created_at"}
    }
    listed = client.get(api(tenant, "members/")).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert "Zhang" not in str(rows)


def test_the_members_page_shows_no_name_of_an_invited_person(tenant, other_tenant, admin_member, client_for):
    from crm import services

    known = UserFactory(email="known.page@beta.test", full_name="Zhang Hidden")
    MembershipFactory(tenant=other_tenant, user=known, role=Role.SALES_REP)
    with tenant_context(tenant):
        membership, _invitation = services.member_invite(
            tenant=tenant, actor=admin_member.user, email=known.email, role=Role.SALES_REP, send_email=False
        )
    client = client_for(admin_member)
    assert "Zhang Hidden" not in client.get(f"/t/{tenant.slug}/members/").content.decode()
    edit = client.get(f"/t/{tenant.slug}/members/{membership.pk}/")
    assert edit.status_code == 200 and "Zhang Hidden" not in edit.content.decode()


# --- Item 1: dates and timestamps from API clients stay within 1900–2200 ------------------------------------------

OUT_OF_RANGE = "Use a date between 1900-01-01 and 2200-12-31."


def _bad_date_answers(client, tenant, path, body, field):
    response = client.post(api(tenant, path), body, format="json")
    assert response.status_code == 400, (path, response.content)
    assert response.json()[field] == [OUT_OF_RANGE], (path, response.json())


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00+08:00", "9999-12-31T23:59:59"],
)
def test_year_one_timestamps_are_refused_on_activities_and_deals(tenant, admin_member, api_client_for, value):
    client = api_client_for(admin_member)
    account = deal_account(tenant, owner=admin_member.user)
    _bad_date_answers(
        client,
        tenant,
        "activities/",
        {"kind": "call", "subject": "Old", "account": account.pk, "occurred_at": value},
        "occurred_at",
    )
    _bad_date_answers(
        client,
        tenant,
        "activities/",
        {"kind": "task", "subject": "Old", "account": account.pk, "due_at": value},
        "due_at",
    )
    _bad_date_answers(
        client,
        tenant,
        "opportunities/",
        {"name": "Old", "account": account.pk, "amount": "1", "created_at": value},
        "created_at",
    )
    with tenant_context(tenant):
        assert not Activity.objects.filter(subject="Old").exists()
        assert not Opportunity.objects.filter(name="Old").exists()


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2201-01-01"])
def test_out_of_range_dates_are_refused_in_every_app(tenant, admin_member, api_client_for, value):
    client = api_client_for(admin_member)
    account = deal_account(tenant, owner=admin_member.user)
    _bad_date_answers(
        client,
        tenant,
        "opportunities/",
        {"name": "Old", "account": account.pk, "amount": "1", "expected_close_date": value},
        "expected_close_date",
    )
    _bad_date_answers(
        client,
        tenant,
        "exchange-rates/",
        {"currency": "USD", "rate": "7.1", "valid_from": value},
        "valid_from",
    )
    _bad_date_answers(
        client, tenant, "campaigns/", {"name": "Old", "channel": "email", "start_date": value}, "start_date"
    )
    _bad_date_answers(
        client,
        tenant,
        "subscriptions/",
        {"account": account.pk, "plan": "Old", "mrr": "10", "start_date": value},
        "start_date",
    )
    _bad_date_answers(
        client,
        tenant,
        "feedback/",
        {"account": account.pk, "kind": "nps", "score": 9, "received_at": f"{value}T10:00:00"},
        "received_at",
    )


def test_a_sane_date_still_passes(tenant, admin_member, api_client_for):
    account = deal_account(tenant, owner=admin_member.user)
    response = api_client_for(admin_member).post(
        api(tenant, "activities/"),
        {
            "kind": "call",
            "subject": "Edge",
            "account": account.pk,
            "occurred_at": "1900-01-01T00:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "path, query",
    [
        # Found by the schemathesis run of tests/test_api_fuzz.py: a 500 before the filters were bounded.
        ("activities", {"due_before": "0122-08-29T04:10:55.4+21:12"}),
        ("activities", {"occurred_after": "0001-01-01T00:00:00"}),
        ("opportunities", {"close_from": "0001-01-01"}),
        ("leads", {"created_to": "9999-12-31"}),
        ("campaigns", {"start_from": "0099-03-01"}),
        ("subscriptions", {"ending_before": "0001-01-01"}),
        ("feedback", {"received_after": "0001-01-01"}),
        ("kpis", {"period_start": "0001-01-01"}),
    ],
)
def test_out_of_range_dates_in_list_filters_are_a_400(tenant, admin_member, api_client_for, path, query):
    response = api_client_for(admin_member).get(f"/api/v1/t/{tenant.slug}/{path}/", query)
    assert response.status_code == 400, response.content
    assert OUT_OF_RANGE in response.content.decode()


def test_every_writable_api_date_field_is_bounded():
    """Walks every serializer of the project: a writable DRF date or timestamp field must be crm.api_fields' bounded
    one (declare SaneDateField/SaneDateTimeField, or derive model serializers from crm.api_fields.ModelSerializer)."""
    import importlib
    import pkgutil

    from rest_framework import serializers

    from crm.api_fields import SaneDateField, SaneDateTimeField

    apps = ("crm", "accounts", "leads", "lifecycle", "sales_ops", "imports")
    for app in apps:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if module.name.endswith("api") or ".api." in module.name or module.name.endswith("serializers"):
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    unbounded = []

    def walk(serializer, path):
        for name, field in serializer.fields.items():
            inner = (
                field.child
                if isinstance(field, (serializers.ListSerializer, serializers.ListField))
                else field
            )
            if field.read_only:
                continue
            if isinstance(inner, serializers.BaseSerializer):
                walk(inner, f"{path}.{name}")
            elif isinstance(inner, serializers.DateField | serializers.DateTimeField) and not isinstance(
                inner, SaneDateField | SaneDateTimeField
            ):
                unbounded.append(f"{path}.{name}")

    checked = 0
    for cls in set(subclasses(serializers.Serializer)):
        if cls.__module__.split(".")[0] not in apps or cls.__module__ == "crm.api_fields":
            continue
        walk(cls(), f"{cls.__module__}.{cls.__name__}")
        checked += 1
    assert checked > 50
    assert unbounded == []


# --- Item 9: exports validate filters exactly as lists do -------------------------------------------------------------


def _foreign_ids(other_tenant):
    from crm.models import Membership

    with tenant_context(other_tenant):
        foreign_user = Membership.objects.get(role=Role.ADMIN).user_id
    foreign_account = AccountFactory(tenant=other_tenant).pk
    return foreign_user, foreign_account


def _export_cases(foreign_user, foreign_account):
    """(export kind, list path, invalid filters): every exportable kind with its list."""
    return [
        ("accounts", "accounts/", {"owner": foreign_user}),
        ("contacts", "contacts/", {"owner": foreign_user}),
        ("opportunities", "opportunities/", {"owner": foreign_user}),
        ("opportunities", "opportunities/", {"owner": 987654321}),
        ("activities", "activities/", {"owner": foreign_user}),
        ("leads", "leads/", {"owner": foreign_user}),
        ("campaigns", "campaigns/", {"owner": foreign_user}),
        ("subscriptions", "subscriptions/", {"owner": foreign_user}),
        ("feedback", "feedback/", {"account": foreign_account}),
    ]


def test_an_export_with_a_filter_the_list_refuses_is_a_400_like_the_list(
    tenant, other_tenant, admin_member, api_client_for
):
    from imports.registry import all_kinds

    client = api_client_for(admin_member)
    cases = _export_cases(*_foreign_ids(other_tenant))
    exportable = {kind.key for kind in all_kinds() if kind.can_export(admin_member)} - {"quotas"}
    assert {kind for kind, _path, _params in cases} == exportable  # every exportable kind is covered
    for kind, path, params in cases:
        listed = client.get(api(tenant, path), params)
        exported = client.get(api(tenant, f"exports/{kind}/"), params)
        assert listed.status_code == 400, (kind, listed.content)
        assert exported.status_code == 400, (kind, exported.status_code)
        assert set(exported.json()) == set(listed.json()), kind


def test_the_export_page_answers_invalid_filters_with_a_400(tenant, other_tenant, admin_member, client_for):
    foreign_user, _account = _foreign_ids(other_tenant)
    response = client_for(admin_member).get(
        f"/t/{tenant.slug}/exports/opportunities.csv", {"owner": foreign_user}
    )
    assert response.status_code == 400
    assert "owner" in response.content.decode()
    fine = client_for(admin_member).get(f"/t/{tenant.slug}/exports/opportunities.csv")
    assert fine.status_code == 200


# --- Item 10 (pieces): a garbage cursor is a 400; the lock-out answers the API in JSON ----------------------------


LISTS = ["accounts/", "activities/", "opportunities/", "campaigns/", "subscriptions/", "leads/"]
GARBAGE_CURSORS = ["garbage", "bz0tMQ=="]  # not a cursor's base64; "o=-1"


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        *[(path, cursor) for path in LISTS for cursor in GARBAGE_CURSORS],
        ("activities/", "cD1hYmM="),  # "p=abc": a position that is no timestamp
        ("opportunities/", "cD1hYmM="),
    ],
)
def test_a_garbage_cursor_is_a_400(tenant, admin_member, api_client_for, path, cursor):
    response = api_client_for(admin_member).get(api(tenant, path), {"cursor": cursor})
    assert response.status_code == 400, (path, cursor, response.status_code)
    assert "cursor" in response.json()


def test_a_garbage_backward_lead_cursor_is_a_400(tenant, admin_member, api_client_for):
    response = api_client_for(admin_member).get(api(tenant, "leads/"), {"before": "garbage"})
    assert response.status_code == 400 and "before" in response.json()


def test_the_lock_out_answers_the_token_endpoint_in_json(settings, admin_member):
    settings.AXES_FAILURE_LIMIT = 3
    address = _address()
    client = APIClient()
    body = {"email": admin_member.user.email, "password": "wrong-password-1", "tenant": "alpha"}
    codes = [
        client.post("/api/v1/auth/token/", body, format="json", REMOTE_ADDR=address).status_code
        for _ in range(3)
    ]
    assert codes[:2] == [400, 400]
    locked = client.post(
        "/api/v1/auth/token/", {**body, "password": PASSWORD}, format="json", REMOTE_ADDR=address
    )
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert "Too many failed attempts" in locked.json()["detail"]
    assert int(locked["Retry-After"]) > 0
    # The login page keeps its page.
    page = Client().post(
        "/login/", {"username": admin_member.user.email, "password": "x"}, REMOTE_ADDR=address
    )
    assert page.status_code == 429 and page["Content-Type"].startswith("text/html")


def test_invitation_links_use_site_url_else_the_requests_host(
    settings, tenant, admin_member, api_client_for, mailoutbox, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "crm.acme.test"]
    for site_url, email, expected in (
        ("", "new.one@alpha.test", "http://crm.acme.test/invite/"),
        ("https://crm.example.com/", "new.two@alpha.test", "https://crm.example.com/invite/"),
    ):
        settings.SITE_URL = site_url
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                api(tenant, "members/"),
                {"email": email, "role": "sales_rep"},
                format="json",
                HTTP_HOST="crm.acme.test",
            )
        assert response.status_code == 201
        link = response.json()["invitation_url"]
        assert link.startswith(f"{expected}{tenant.slug}/")
        assert mailoutbox[-1].to == [email] and link in mailoutbox[-1].body


# --- Found by the API fuzzing (tests/test_api_fuzz.py) ----------------------------------------------------------


def test_an_api_url_matching_no_route_answers_json_404(tenant, admin_member, api_client_for, client_for):
    """`/api/v1/t/<slug>/leads/abc/` matches no route (ids are integers): the API's JSON 404 as for an unknown id,
    not the HTML 404 page, which the schema does not document. Pages keep the HTML page."""
    client = api_client_for(admin_member)
    for path in (api(tenant, "leads/abc/"), api(tenant, "leads/-1.5/"), "/api/v1/nothing-here/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json() == {"detail": "Not found."}
    page = client_for(admin_member).get(f"/t/{tenant.slug}/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_validation_error_raised_with_a_list_answers_an_object():
    """A ValidationError raised with a bare list (by a filter or a view's own check) answers an object like every
    other 400, its messages under `non_field_errors`: the schema's ValidationError is an object."""
    from rest_framework import serializers

    from crm.api_errors import exception_handler

    response = exception_handler(serializers.ValidationError(["Bad date."]), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Bad date."]}
