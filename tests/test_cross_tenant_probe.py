"""The cross-tenant probe: every URL pattern and API route of the project, proven against another tenant's ids.

Generic by design: routes are collected from the URL resolver and objects from the factories, so a route or a
model added later is probed with no new test code. The world, built fresh for each route:

- tenant A ("home"): the probing user is an ADMIN member of A (the most privileged role inside a tenant);
- tenant B ("foreign"): one instance of every tenant-owned factory (with its parents), built after A with
  primary keys in a separate range, so no id of B is also an id of any row of A.

For every route under /t/<slug>/ and /api/v1/t/<slug>/ (pages with a logged-in session, API with a token):

- A's slug with B's ids in the path: 404 for GET, POST, PUT, PATCH and DELETE (405 when the route does not
  take the method), never 2xx, 3xx or 403;
- A's slug alone: GET with B's ids as filter parameters, writes with bodies whose foreign-key-looking fields
  carry B's ids: any status below 500 but never a redirect to the login page; when it succeeds, no row of A
  may point at a row of B, and no response may show B's data;
- B's slug: 404 for every method;
- in every case B's rows (every tenant-owned model, read with `all_tenants` inside B's context, plus B's tenant
  row, API tokens and users) are snapshotted before and after each request and must be unchanged.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pghistory.models
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.db import connection, models
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize
from rest_framework.test import APIClient

import tests.factories as factories_module
from crm import services
from crm.dbroles import as_owner
from crm.models import ApiToken, Invitation, Membership, Role, Tenant, User
from crm.rls import tenant_owned_models
from crm.tenancy import tenant_context
from tests.factories import TenantOwnedFactory

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ALL_METHODS = ("GET", *WRITE_METHODS)

# Routes that are not tenant routes, each with the reason. Every other route must live under /t/<slug>/ or
# /api/v1/t/<slug>/ and is probed. A trailing "*" matches a prefix.
NON_TENANT_ROUTES: dict[str, str] = {
    "": "home: redirects to the user's own first tenant, no tenant in the URL",
    "signup/": "self-service sign-up: creates a new tenant, reads no existing one",
    "login/": "login form, before any tenant",
    "logout/": "ends the session, tenant-independent",
    "language/": "saves the user's language and a cookie, tenant-independent",
    "switch/": "redirects to /t/<to>/, where the middleware checks membership",
    "no-tenant/": "the page for a user without any tenant",
    "healthz": "load-balancer health check, no tenant data",
    "api/schema/": "OpenAPI document, no tenant data",
    "api/docs/": "Swagger UI page, no tenant data",
    "api/v1/auth/token/": "token exchange: checks email, password and membership itself (tests/crm/test_api.py)",
    "admin/*": "Django admin for platform staff (tenants and users only), staff login required",
    "invite/<slug:slug>/<str:token>/": (
        "invitation link, open to non-members; probed separately by "
        "test_invitation_link_with_foreign_token_is_404"
    ),
    "survey/<str:token>/": (
        "customer survey link, no login and no tenant in the URL: the signed token names the tenant and contact, "
        "so a forged or foreign token is refused and writes nothing (tests/lifecycle/test_survey_links.py)"
    ),
}

TENANT_PREFIXES = ("t/<slug:slug>/", "api/v1/t/<slug:slug>/")
NOT_FOUND_OR_NOT_ALLOWED = {404, 405}
MISSING_VALUES = ["987654321987", "00000000-0000-4000-8000-000000000000", "no-such-object"]
# "value": the value lists' routes name a value in the path (value-lists/<list_key>/<value>/).
TOKEN_LIKE_FIELDS = {
    "token",
    "key",
    "slug",
    "uuid",
    "code",
    "external_id",
    "number",
    "reference",
    "email",
    "value",
}
# Path kwargs that name a fixed key rather than a row: A's own value for the others while one kwarg is probed.
FIXED_PATH_VALUES = {"list_key": "channel"}
MARKER_MIN_LENGTH = 12
ID_RANGE_GAP = 1_000_000


# --- Routes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "t/<slug:slug>/members/<int:pk>/"
    regex: str  # the full regex from the root, for building URLs
    callback: Any
    name: str

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def kwargs(self) -> list[str]:
        return normalize(self.regex)[0][1]

    @property
    def id_kwargs(self) -> list[str]:
        return [k for k in self.kwargs if k not in {"slug", "format"}]

    def url(self, **values: object) -> str:
        template, params = normalize(self.regex)[0]
        return "/" + template % {
            name: values.get(name, "json" if name == "format" else "") for name in params
        }

    def fits(self, kwarg: str, value: str) -> bool:
        """Whether `value` matches the path parameter's own pattern (its converter's regex)."""
        start = self.regex.index(f"(?P<{kwarg}>") + len(f"(?P<{kwarg}>")
        depth, end = 1, start
        while depth:
            char = self.regex[end]
            if char == "\\":
                end += 2
                continue
            depth += {"(": 1, ")": -1}.get(char, 0)
            end += 1
        return re.fullmatch(self.regex[start : end - 1], value) is not None

    def matches(self, url: str) -> bool:
        try:
            match = resolve(url)
        except Resolver404:
            return False
        return match.func is self.callback


def _strip_anchor(regex: str) -> str:
    return regex[1:] if regex.startswith("^") else regex


def _walk(resolver: URLResolver, route: str = "", regex: str = "", name_prefix: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        entry_route = route + str(entry.pattern).lstrip("^")
        entry_regex = regex + _strip_anchor(entry.pattern.regex.pattern)
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            yield from _walk(entry, entry_route, entry_regex, name_prefix + namespace)
        elif isinstance(entry, URLPattern):
            yield Route(entry_route, "^" + entry_regex, entry.callback, name_prefix + (entry.name or "?"))


def collect_routes() -> list[Route]:
    return list(_walk(get_resolver()))


def is_listed_non_tenant(route: Route) -> bool:
    for listed in NON_TENANT_ROUTES:
        if listed.endswith("*") and route.route.startswith(listed[:-1]):
            return True
        if route.route == listed:
            return True
    return False


ROUTES = collect_routes()
TENANT_ROUTES = [r for r in ROUTES if not is_listed_non_tenant(r) and r.route.startswith(TENANT_PREFIXES)]
ID_ROUTES = [r for r in TENANT_ROUTES if r.id_kwargs]
SLUG_ONLY_ROUTES = [r for r in TENANT_ROUTES if not r.id_kwargs]


def route_id(route: Route) -> str:
    return route.route or "/"


# --- Models and factories ----------------------------------------------------------------------------------------


def is_history_event(model: type[models.Model]) -> bool:
    return issubclass(model, pghistory.models.Event)


def through_models() -> set[type[models.Model]]:
    return {m2m.remote_field.through for model in apps.get_models() for m2m in model._meta.local_many_to_many}


def models_needing_factories() -> list[type[models.Model]]:
    throughs = through_models()
    return [m for m in tenant_owned_models() if not is_history_event(m) and m not in throughs]


def tenant_owned_factories() -> list[type[TenantOwnedFactory]]:
    """Every concrete TenantOwnedFactory defined in the factories modules (tests/factories.py imports them all)."""
    assert factories_module.TenantOwnedFactory is TenantOwnedFactory
    found: set[type[TenantOwnedFactory]] = set()
    stack: list[type] = [TenantOwnedFactory]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            in_factories_module = any(part.startswith("factories") for part in sub.__module__.split("."))
            if in_factories_module and not sub._meta.abstract:
                found.add(sub)
    return sorted(found, key=lambda f: (f.__module__, f.__name__))


def pk_name(model: type[models.Model]) -> str:
    return model._meta.pk.attname


def manager_of(model: type[models.Model]) -> models.Manager:
    # Tenant-owned models expose the explicit unscoped manager; history event models have only a plain one.
    return getattr(model, "all_tenants", model._base_manager)


# --- The world ---------------------------------------------------------------------------------------------------


def _sequences() -> list[str]:
    tables = [(m._meta.db_table, m._meta.pk.column) for m in tenant_owned_models()]
    tables += [(m._meta.db_table, m._meta.pk.column) for m in (Tenant, User, ApiToken)]
    found = []
    with connection.cursor() as cursor:
        for table, column in tables:
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table), column]
            )
            sequence = cursor.fetchone()[0]
            if sequence:
                found.append(sequence)
    return found


def move_ids_to_a_fresh_range() -> None:
    """Make every new row of every tenant-owned table (and of tenants and users) take an id above every id
    used so far, with a gap, so the rows made next share no id with the rows made before."""
    sequences = _sequences()
    # setval() needs UPDATE on the sequences, which only the owner role has (crm/dbroles.py).
    with as_owner(), connection.cursor() as cursor:
        highest = 0
        for sequence in sequences:
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608 - names from the catalog
            highest = max(highest, cursor.fetchone()[0])
        start = (highest // ID_RANGE_GAP + 2) * ID_RANGE_GAP
        for sequence in sequences:
            cursor.execute("SELECT setval(%s, %s)", [sequence, start])


def rows_of(tenant: Tenant) -> dict[type[models.Model], list[models.Model]]:
    with tenant_context(tenant):
        return {
            model: list(manager_of(model).filter(tenant=tenant).order_by(pk_name(model)))
            for model in tenant_owned_models()
        }


def member_user_ids(tenant: Tenant) -> set[int]:
    with tenant_context(tenant):
        return set(Membership.all_tenants.filter(tenant=tenant).values_list("user_id", flat=True))


def string_values(rows: dict[type[models.Model], list[models.Model]], users: list[User]) -> set[str]:
    values: set[str] = set()
    for model, objects in rows.items():
        text_fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        for obj in objects:
            for text_field in text_fields:
                value = getattr(obj, text_field.attname)
                if isinstance(value, str) and value:
                    values.add(value)
    for user in users:
        values.update(v for v in (user.email, user.full_name) if v)
    return values


def home_now_holds(world: World, marker: str) -> bool:
    """Whether any of A's rows or members holds `marker` in a text value at this moment. A's API tokens count too:
    they are A's (tenant_id) though exempt from row-level security (an earlier probe may have named one with a
    value copied from B's, which A's own token page then shows)."""
    users = list(User.objects.filter(pk__in=member_user_ids(world.home)))
    rows = rows_of(world.home)
    rows[ApiToken] = list(ApiToken.objects.filter(tenant=world.home))
    return any(marker in value for value in string_values(rows, users))


@dataclass
class World:
    home: Tenant
    foreign: Tenant
    admin: Membership
    page_client: Client
    api_client: APIClient
    home_rows: dict[type[models.Model], list[models.Model]]
    foreign_rows: dict[type[models.Model], list[models.Model]]
    foreign_user_ids: set[int]
    home_user_ids: set[int]
    foreign_pks: dict[type[models.Model], set[Any]] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    # A's own texts, lower-cased: the search ignores case, so a marker found in one of them is not B's alone there.
    home_texts: list[str] = field(default_factory=list)

    def client_for(self, route: Route) -> Client:
        return self.api_client if route.is_api else self.page_client


def build_tenant(slug: str, name: str, admin_email: str, factory_classes: list[type]) -> Tenant:
    tenant = services.tenant_create(
        slug=slug,
        name=name,
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=admin_email,
        admin_password="probe-pass-12345",
        admin_name=f"{name} Admin",
    )
    for factory_class in factory_classes:
        build_in(tenant, factory_class)
    return tenant


def build_in(tenant: Tenant, factory_class: type[TenantOwnedFactory]) -> models.Model:
    """`Factory(tenant=tenant)`, which must build the object and all its parents inside that one tenant."""
    name = f"{factory_class.__module__}.{factory_class.__name__}"
    tenants_before = set(Tenant.objects.values_list("pk", flat=True))
    try:
        obj = factory_class(tenant=tenant)
    except Exception as exc:  # noqa: BLE001 - name the factory that cannot build inside one tenant
        pytest.fail(f"{name}(tenant=...) failed: {exc!r}")
    stray = list(Tenant.objects.exclude(pk__in=tenants_before).values_list("slug", flat=True))
    assert not stray, (
        f"{name}(tenant=...) created other tenants {stray}: a SubFactory does not inherit its parent's tenant "
        "(declare it with tenant=factory.SelfAttribute('..tenant'))"
    )
    return obj


def assert_factories_kept_their_tenant(world: World) -> None:
    stray = Tenant.objects.exclude(pk__in=[world.home.pk, world.foreign.pk]).values_list("slug", flat=True)
    assert not list(stray), (
        f"factories created extra tenants {list(stray)}: a SubFactory does not inherit its parent's tenant "
        "(use factory.SelfAttribute('..tenant'))"
    )
    for tenant, rows in ((world.home, world.home_rows), (world.foreign, world.foreign_rows)):
        pks = {model: {obj.pk for obj in objects} for model, objects in rows.items()}
        for model, objects in rows.items():
            for fk in model._meta.concrete_fields:
                target = fk.related_model
                if not fk.is_relation or target not in pks or fk.name == "pgh_obj":
                    continue
                for obj in objects:
                    value = getattr(obj, fk.attname)
                    assert value is None or value in pks[target], (
                        f"{model._meta.label}.{fk.name} of a row of {tenant.slug} points to another tenant's "
                        f"{target._meta.label} {value}"
                    )


def build_world() -> World:
    factory_classes = tenant_owned_factories()

    move_ids_to_a_fresh_range()
    home = build_tenant("probe-home", "Probe Home Company", "admin@probe-home.test", factory_classes)
    move_ids_to_a_fresh_range()
    foreign = build_tenant(
        "probe-foreign", "Foreign Secret Holdings", "admin@probe-foreign.test", factory_classes
    )
    # Rows A makes during the probe get ids of a third range, so they never equal one of B's ids either.
    move_ids_to_a_fresh_range()

    with tenant_context(home):
        admin = Membership.objects.select_related("user", "tenant").get(role=Role.ADMIN)
    page_client = Client()
    page_client.force_login(admin.user)
    api_client = APIClient()
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Token {services.api_token_create(tenant=home, user=admin.user)}"
    )

    world = World(
        home=home,
        foreign=foreign,
        admin=admin,
        page_client=page_client,
        api_client=api_client,
        home_rows=rows_of(home),
        foreign_rows=rows_of(foreign),
        foreign_user_ids=member_user_ids(foreign),
        home_user_ids=member_user_ids(home),
    )
    assert not world.foreign_user_ids & world.home_user_ids
    assert_factories_kept_their_tenant(world)
    world.foreign_pks = {model: {obj.pk for obj in objects} for model, objects in world.foreign_rows.items()}
    world.foreign_pks[User] = set(world.foreign_user_ids)
    world.foreign_pks[Tenant] = {foreign.pk}

    home_values = string_values(world.home_rows, list(User.objects.filter(pk__in=world.home_user_ids)))
    home_values.add(home.name)
    foreign_values = string_values(
        world.foreign_rows, list(User.objects.filter(pk__in=world.foreign_user_ids))
    )
    foreign_values.add(foreign.name)
    world.home_texts = sorted(value.lower() for value in home_values)
    world.markers = sorted(
        value
        for value in foreign_values
        if len(value) >= MARKER_MIN_LENGTH and not any(value in mine for mine in home_values)
    )
    return world


def empty_tables() -> list[str]:
    """The app's tables that hold no row now (before the world is built): the ones to empty again after it."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        empty = []
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")  # noqa: S608
            if not cursor.fetchone()[0]:
                empty.append(table)
    return empty


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """Built once for the module and committed; every test runs in its own transaction (rolled back), so the
    requests a test makes never reach the next test, and the snapshots prove each test changed nothing of B."""
    with django_db_blocker.unblock():
        tables = empty_tables()
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            built = build_world()
    yield built
    # TRUNCATE as the owner role: the app role may not (crm/dbroles.py).
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
        cursor.execute(f"TRUNCATE {quoted}")  # noqa: S608 - names from the catalog


# --- Snapshots and checks ------------------------------------------------------------------------------------------


def snapshot(world: World) -> dict[str, str]:
    """A fingerprint of every row of B (each tenant-owned table, B's tenant row, API tokens and users): one md5
    per table over its rows in id order, read in one query, so a change anywhere shows as a changed table."""
    tenant = world.foreign
    quote = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []

    def fingerprint(label: str, table: str, pk: str, where: str, *values: Any) -> None:
        parts.append(
            f"SELECT %s AS label, md5(coalesce(string_agg(t::text, '|' ORDER BY t.{quote(pk)}), '')) "  # noqa: S608
            f"FROM {quote(table)} t WHERE {where}"
        )
        params.extend([label, *values])

    for model in tenant_owned_models():
        fingerprint(
            model._meta.label, model._meta.db_table, model._meta.pk.column, "t.tenant_id = %s", tenant.pk
        )
    fingerprint("crm.Tenant", Tenant._meta.db_table, "id", "t.id = %s", tenant.pk)
    fingerprint("crm.ApiToken", ApiToken._meta.db_table, "id", "t.tenant_id = %s", tenant.pk)
    fingerprint("crm.User", User._meta.db_table, "id", "t.id = ANY(%s)", sorted(world.foreign_user_ids))
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return dict(cursor.fetchall())


def changed_models(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]


def home_rows_pointing_abroad(world: World) -> list[str]:
    """Rows of A whose foreign keys point at B's rows or users: an id of B was accepted and attached (one query
    over every foreign key of every tenant-owned table)."""
    quote = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []
    for model in tenant_owned_models():
        for fk in model._meta.concrete_fields:
            targets = world.foreign_pks.get(fk.related_model) if fk.is_relation else None
            if not targets or fk.name == "tenant":
                continue
            parts.append(
                f"SELECT %s, t.{quote(model._meta.pk.column)}::text, t.{quote(fk.column)}::text "  # noqa: S608
                f"FROM {quote(model._meta.db_table)} t "
                f"WHERE t.tenant_id = %s AND t.{quote(fk.column)}::text = ANY(%s)"
            )
            params += [f"{model._meta.label} .{fk.name}", world.home.pk, [str(pk) for pk in targets]]
    if not parts:
        return []
    with tenant_context(world.home), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [
            f"{label.split(' ')[0]} {pk}{label.split(' ')[1]} = {value}"
            for label, pk, value in cursor.fetchall()
        ]


def response_text(response) -> str:  # type: ignore[no-untyped-def]
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    login_url = str(django_settings.LOGIN_URL)
    location = response.get("Location", "")
    return response.status_code in {301, 302, 303, 307, 308} and (
        "/login/" in location or login_url in location
    )


def send(world: World, route: Route, method: str, url: str, body: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    client = world.client_for(route)
    try:
        if method == "GET":
            return client.get(url, form_encode(body or {}) if body else None)
        if route.is_api:
            return getattr(client, method.lower())(url, json_encode(body or {}), format="json")
        if method == "POST":
            return client.post(url, form_encode(body or {}))
        return getattr(client, method.lower())(
            url,
            urlencode(form_encode(body or {}), doseq=True),
            content_type="application/x-www-form-urlencoded",
        )
    except Exception as exc:  # noqa: BLE001 - a crash on another tenant's id is a failure of the probe
        pytest.fail(f"{method} {url} raised {exc!r} (another tenant's id must behave like a missing one)")


def probe(
    world: World,
    route: Route,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    baseline: dict[str, str],
    allowed: set[int] | None,
) -> None:
    """Send one request, then check its status, B's rows, A's references to B and the response text."""
    response = send(world, route, method, url, body)
    where = f"{method} {url} as A's admin"
    status = response.status_code
    if allowed is not None:
        assert status in allowed, f"{where}: got {status}, expected one of {sorted(allowed)}"
    else:
        assert status < 500, f"{where}: server error {status}"
        assert not is_login_redirect(response), f"{where}: redirected to login although logged in"
    changed = changed_models(baseline, snapshot(world))
    assert not changed, f"{where}: changed another tenant's rows in {changed}"
    if 200 <= status < 400:
        if method in WRITE_METHODS:
            attached = home_rows_pointing_abroad(world)
            assert not attached, f"{where}: attached another tenant's objects: {attached}"
        text = response_text(response)
        # A form may show back what the client itself sent (B's values copied into the body): not a leak.
        sent = " ".join(str(value) for value in (body or {}).values())
        leaked = [marker for marker in world.markers if marker in text and marker not in sent]
        if leaked:
            # An earlier write may have copied B's text into a row of A's own (a name echoed from the body):
            # then the text is A's data now, and showing it is no leak.
            leaked = [marker for marker in leaked if not home_now_holds(world, marker)]
        assert not leaked, f"{where}: response shows another tenant's data: {leaked[:5]}"


# --- Values for paths and bodies ---------------------------------------------------------------------------------


def foreign_objects(world: World) -> list[models.Model]:
    return [obj for objects in world.foreign_rows.values() for obj in objects]


def path_candidates(world: World) -> list[str]:
    """Values for a path kwarg: the pk of every row of B, then B's token-like strings, users and tenant."""
    values: list[str] = []
    for obj in foreign_objects(world):
        values.append(str(obj.pk))
        for model_field in type(obj)._meta.concrete_fields:
            token_like = model_field.unique or model_field.name in TOKEN_LIKE_FIELDS
            if isinstance(model_field, models.CharField | models.UUIDField) and token_like:
                value = getattr(obj, model_field.attname)
                if value:
                    values.append(str(value))
    values += [str(pk) for pk in sorted(world.foreign_user_ids)]
    values += [str(world.foreign.pk), *MISSING_VALUES]
    return list(dict.fromkeys(values))


def model_for_kwarg(name: str) -> type[models.Model] | None:
    base = re.sub(r"_(pk|id|uuid|slug|token)$", "", name).replace("_", "")
    for model in tenant_owned_models():
        if not is_history_event(model) and model._meta.model_name == base:
            return model
    return None


def default_home_value(world: World, kwarg: str) -> str | None:
    """For nested routes: an id of A's own object for a parent kwarg named after a model (account_pk, lead_id)."""
    if kwarg in FIXED_PATH_VALUES:
        return FIXED_PATH_VALUES[kwarg]
    model = model_for_kwarg(kwarg)
    if model is not None and world.home_rows.get(model):
        return str(world.home_rows[model][0].pk)
    return None


def fitting_values(world: World, route: Route, kwarg: str) -> list[str]:
    values = [value for value in path_candidates(world) if route.fits(kwarg, value)]
    assert values, f"{route.route}: no value fits the path parameter {kwarg!r}"
    return values


def id_route_urls(world: World, route: Route) -> list[str]:
    """URLs of the route with A's slug and B's ids: each kwarg takes every candidate in turn, the others A's own
    parent (when named after a model) or the first fitting candidate."""
    fitting = {kwarg: fitting_values(world, route, kwarg) for kwarg in route.id_kwargs}
    urls = []
    for kwarg in route.id_kwargs:
        others = {
            other: default_home_value(world, other) or fitting[other][0]
            for other in route.id_kwargs
            if other != kwarg
        }
        urls += [route.url(slug=world.home.slug, **others, **{kwarg: value}) for value in fitting[kwarg]]
    if len(route.id_kwargs) > 1:  # and all of B's at once
        urls.append(route.url(slug=world.home.slug, **{k: fitting[k][0] for k in route.id_kwargs}))
    urls = list(dict.fromkeys(urls))
    unresolved = [url for url in urls if not route.matches(url)]
    assert not unresolved, f"built URLs that do not resolve to {route.route}: {unresolved[:3]}"
    return urls


def foreign_values_for(world: World, route: Route) -> dict[str, str]:
    """One real id of B for each path kwarg: of the model the kwarg is named after, else the first that fits."""
    values = {}
    for kwarg in route.id_kwargs:
        model = model_for_kwarg(kwarg)
        named = [str(obj.pk) for obj in world.foreign_rows.get(model, [])] if model else []
        values[kwarg] = (
            next((v for v in named if route.fits(kwarg, v)), None) or fitting_values(world, route, kwarg)[0]
        )
    return values


def plain(value: Any) -> Any:
    from django.db.models.fields.files import FieldFile

    if isinstance(value, FieldFile):  # a stored file's field (an import job's upload): its name
        return value.name or ""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def json_encode(body: dict[str, Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in body.items()}


def form_encode(body: dict[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, value in body.items():
        if value is None or value is False:
            encoded[key] = ""
        elif value is True:
            encoded[key] = "on"
        elif isinstance(value, list | tuple | set):
            encoded[key] = [str(plain(v)) for v in value]
        else:
            encoded[key] = str(plain(value))
    return encoded


def foreign_key_body(world: World) -> dict[str, Any]:
    """Every field name that names a relation in any model, with an id of B's rows of the related model, plus
    its `<name>_id` variant and `ids` with every id of B."""
    body: dict[str, Any] = {}
    for model in apps.get_models():
        for relation in model._meta.get_fields():
            if not (relation.is_relation and relation.concrete):
                continue
            targets = sorted(world.foreign_pks.get(relation.related_model, ()), key=str)
            if not targets or relation.name in body:
                continue
            value: Any = targets if relation.many_to_many else targets[0]
            body[relation.name] = value
            body.setdefault(f"{relation.name}_id", value)
    body["ids"] = sorted({obj.pk for obj in foreign_objects(world)}, key=str)
    return body


def copy_body(obj: models.Model) -> dict[str, Any]:
    """A body that copies one of B's rows: its editable fields, foreign keys as B's ids."""
    body = {}
    for model_field in type(obj)._meta.concrete_fields:
        if model_field.primary_key or model_field.name in {"tenant", "created_at", "updated_at"}:
            continue
        if not model_field.editable:
            continue
        body[model_field.name] = getattr(obj, model_field.attname)
    return body


def write_bodies(world: World) -> list[dict[str, Any]]:
    generic = foreign_key_body(world)
    bodies = [generic]
    for model, objects in world.foreign_rows.items():
        if objects and not is_history_event(model):
            bodies.append({**generic, **copy_body(objects[-1])})
    return bodies


# --- Tests -------------------------------------------------------------------------------------------------------


def test_every_route_is_probed_or_listed():
    unclassified = [
        r.route for r in ROUTES if not is_listed_non_tenant(r) and not r.route.startswith(TENANT_PREFIXES)
    ]
    assert not unclassified, (
        f"routes neither under /t/<slug>/ or /api/v1/t/<slug>/ nor listed in NON_TENANT_ROUTES: {unclassified}"
    )
    for route in TENANT_ROUTES:
        assert "slug" in route.kwargs, route.route
    for listed in NON_TENANT_ROUTES:
        assert any(
            r.route.startswith(listed[:-1]) if listed.endswith("*") else r.route == listed for r in ROUTES
        ), f"NON_TENANT_ROUTES lists {listed!r}, which is no longer a route"
    assert {"t/<slug:slug>/members/<int:pk>/", "api/v1/t/<slug:slug>/members/<int:pk>/"} <= {
        r.route for r in ID_ROUTES
    }


def test_every_tenant_owned_model_has_a_factory():
    covered = {f._meta.get_model_class() for f in tenant_owned_factories()}
    missing = sorted(m._meta.label for m in models_needing_factories() if m not in covered)
    assert not missing, (
        "tenant-owned models without a factory (add one to tests/factories*.py, subclassing TenantOwnedFactory, "
        f"so the cross-tenant probe creates them): {', '.join(missing)}"
    )


@pytest.mark.parametrize("factory_class", tenant_owned_factories(), ids=lambda f: f.__name__)
def test_factory_builds_inside_the_given_tenant(other_tenant, factory_class):
    obj = build_in(other_tenant, factory_class)
    assert obj.tenant_id == other_tenant.pk
    for relation in type(obj)._meta.concrete_fields:
        related = getattr(obj, relation.name, None) if relation.is_relation else None
        if related is not None and hasattr(related, "tenant_id"):
            assert related.tenant_id == other_tenant.pk, (
                f"{factory_class.__name__}: {relation.name} is in another tenant"
            )


def test_the_world_has_one_row_of_every_factory_in_each_tenant(world):
    for factory_class in tenant_owned_factories():
        model = factory_class._meta.get_model_class()
        assert world.foreign_rows[model], f"{factory_class.__name__} made no {model._meta.label} in B"
        assert world.home_rows[model], f"{factory_class.__name__} made no {model._meta.label} in A"
    home_ids = {obj.pk for objects in world.home_rows.values() for obj in objects}
    assert not home_ids & {obj.pk for obj in foreign_objects(world)}
    assert world.markers, "no distinctive text in B's rows to look for in responses"


@pytest.mark.parametrize("route", ID_ROUTES, ids=route_id)
def test_foreign_ids_in_the_path_are_404_and_change_nothing(world, route):
    baseline = snapshot(world)
    body = foreign_key_body(world)
    urls = id_route_urls(world, route)
    assert urls
    for url in urls:
        for method in ALL_METHODS:
            probe(
                world,
                route,
                method,
                url,
                body if method != "GET" else None,
                baseline,
                NOT_FOUND_OR_NOT_ALLOWED,
            )


@pytest.mark.parametrize("route", SLUG_ONLY_ROUTES, ids=route_id)
def test_foreign_ids_in_filters_and_bodies_attach_and_change_nothing(world, route):
    baseline = snapshot(world)
    url = route.url(slug=world.home.slug)
    assert route.matches(url), url
    probe(world, route, "GET", url, None, baseline, None)
    probe(
        world,
        route,
        "GET",
        url,
        {k: v for k, v in foreign_key_body(world).items() if k != "ids"},
        baseline,
        None,
    )
    for body in write_bodies(world):
        for method in WRITE_METHODS:
            probe(world, route, method, url, body, baseline, None)


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=route_id)
def test_foreign_tenant_slug_is_404(world, route):
    baseline = snapshot(world)
    values = foreign_values_for(world, route)
    url = route.url(slug=world.foreign.slug, **values)
    assert route.matches(url), url
    for method in ALL_METHODS:
        body = foreign_key_body(world) if method != "GET" else None
        probe(world, route, method, url, body, baseline, {404})
    # Also with the session on API routes: a logged-in non-member is a 404 whatever the authentication.
    if route.is_api:
        response = world.page_client.get(url)
        assert response.status_code == 404, f"GET {url} with A's session: {response.status_code}"


def test_invitation_link_with_foreign_token_is_404(world):
    with tenant_context(world.foreign):
        actor = Membership.objects.select_related("user").get(role=Role.ADMIN).user
        membership, invitation = services.member_invite(
            tenant=world.foreign, actor=actor, email="invitee@probe-foreign.test", role=Role.SALES_REP
        )
    baseline = snapshot(world)
    tokens = [invitation.token]
    with tenant_context(world.foreign):
        tokens += list(Invitation.all_tenants.filter(tenant=world.foreign).values_list("token", flat=True))
    for token in dict.fromkeys(tokens):
        url = f"/invite/{world.home.slug}/{token}/"
        for client in (Client(), world.page_client):
            assert client.get(url).status_code == 404, url
            response = client.post(url, {"full_name": "Intruder", "password": "intruder-pass-12345"})
            assert response.status_code == 404, url
    assert not changed_models(baseline, snapshot(world))
    with tenant_context(world.foreign):
        assert Membership.objects.get(pk=membership.pk).status == "invited"


def test_the_snapshot_sees_any_change_of_b(world):
    baseline = snapshot(world)
    assert len(baseline) == len(tenant_owned_models()) + 3
    with tenant_context(world.foreign):
        for model in models_needing_factories():
            if model._meta.label == "leads.Lead":
                manager_of(model).filter(tenant=world.foreign).update(first_name="Changed")
    # The lead and its history (the pghistory trigger recorded the update).
    assert sorted(changed_models(baseline, snapshot(world))) == ["leads.Lead", "leads.LeadEvent"]
    with tenant_context(world.home):
        assert not home_rows_pointing_abroad(world)


def test_global_search_finds_nothing_of_b(world):
    """The top bar's search (page, dropdown and API) with B's own texts as the query: nothing of B comes back to
    A's admin, while B's admin, searching the same texts in B, does find B's records (the probe is not empty)."""
    with tenant_context(world.foreign):
        foreign_admin = Membership.objects.select_related("user").get(role=Role.ADMIN).user
    foreign_client = Client()
    foreign_client.force_login(foreign_admin)
    found_in_b = 0
    baseline = snapshot(world)
    for marker in world.markers:
        query = marker[:60]
        # The search ignores case: a text of B's that is in one of A's but for case (B's "COMPANY 2091", a lead's
        # company key, and A's account "Company 2091", when the factories' counters meet) rightly finds A's own
        # record, so that query proves nothing about B. The other markers still do, and B's admin must find them.
        if any(query.lower() in text for text in world.home_texts):
            continue
        page = world.page_client.get(f"/t/{world.home.slug}/search/", {"q": query})
        dropdown = world.page_client.get(
            f"/t/{world.home.slug}/search/", {"q": query, "dropdown": "1"}, HTTP_HX_REQUEST="true"
        )
        api = world.api_client.get(f"/api/v1/t/{world.home.slug}/search/", {"q": query})
        for response in (page, dropdown, api):
            assert response.status_code == 200, query
            text = response_text(response)
            leaked = [m for m in world.markers if m in text and m not in query]
            assert not leaked, f"search for {query!r} showed B's {leaked[:3]}"
        assert not any(group["results"] for group in api.json()["groups"]), query
        in_b = foreign_client.get(
            f"/t/{world.foreign.slug}/search/", {"q": query, "dropdown": "1"}, HTTP_HX_REQUEST="true"
        )
        found_in_b += 'data-testid="search-hit"' in response_text(in_b)
    assert found_in_b, "B's admin found none of B's texts: the probe searched for nothing"
    assert not changed_models(baseline, snapshot(world))
