"""Shared fixtures: tenant, other_tenant, member(role=...), client_for(member), api_client_for(member)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from crm import services
from crm.models import Membership, Role
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def make_tenant(slug: str, **kwargs: object):
    return services.tenant_create(
        slug=slug,
        name=kwargs.pop("name", slug.title()),
        time_zone=kwargs.pop("time_zone", "Asia/Shanghai"),
        currency=kwargs.pop("currency", "CNY"),
        admin_email=kwargs.pop("admin_email", f"admin@{slug}.test"),
        admin_password=PASSWORD,
        admin_name="Admin",
        **kwargs,
    )


_app_login: dict = {}  # the app role's login values, while the settings connect as the owner role


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):  # type: ignore[no-untyped-def]
    """The test database is created, migrated and dropped by the owner role, as in production (crm/dbroles.py):
    the settings connect as it until the set-up is done. A test database kept from before the owner role (the
    app role owning its tables) is adopted first."""
    from django.conf import settings

    from crm import dbroles

    admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
    if not os.environ.get("DATABASE_URL"):
        from crm.embedded_db import embedded_admin_url

        admin_url = embedded_admin_url()
    owner = settings.DATABASE_OWNER
    if admin_url and owner["CONNECTION"] is not None:
        dbroles.ensure_owner_role(admin_url, owner_role=owner["ROLE"])
        import psycopg

        name = settings.DATABASES["default"]["TEST"]["NAME"]
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            dbroles.prepare_database(admin_url, name, app_role=owner["APP_ROLE"], owner_role=owner["ROLE"])
    _app_login.update(dbroles.use_owner_settings())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """After the set-up, the tests connect as the app role (data privileges only); the owner role again for the
    teardown that drops the database."""
    from crm import dbroles

    with django_db_blocker.unblock():
        owner_login = dbroles.restore_settings(_app_login)
    yield
    with django_db_blocker.unblock():
        dbroles.restore_settings(owner_login)


@pytest.fixture(autouse=True)
def celery_eager(settings):
    """Tasks run in-process in tests even when REDIS_URL points at a real broker (CI): a test sees their
    effect. The one test of a real worker (tests/test_health.py) starts its own worker process."""
    from crm.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language. A request through the test client leaves the language it was
    served in active in the thread (LocaleMiddleware does not deactivate it), so a test after a 中文 page would
    otherwise get the services' messages in 中文, depending on the order the tests run in."""
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root_per_test(settings, tmp_path):
    """Uploaded files (import jobs) go to a folder of the test's own, not the checkout's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def kpi_recompute_on_change_off(settings):
    """A saved lead, deal or activity queues a KPI recompute after commit (sales_ops); other apps' tests do not
    run it, so their query counts stay their own (tests/sales_ops turn it back on where they test it)."""
    settings.KPI_RECOMPUTE_ON_CHANGE = False


@pytest.fixture(autouse=True)
def api_rate_limits_out_of_the_way(settings):
    """The API's rate limits (crm.throttling) count in the shared cache (Redis in CI) under keys of the token and
    the tenant, which the probe's fixed ids make the same across tests and runs: a suite of hundreds of requests a
    minute would meet them. Tests get limits no test reaches; tests/crm/test_api_throttle.py sets small ones."""
    settings.API_RATE_PER_TOKEN = "1000000/min"
    settings.API_RATE_PER_TENANT = "1000000/min"


@pytest.fixture
def tenant(db):
    return make_tenant("alpha")


@pytest.fixture
def other_tenant(db):
    return make_tenant("beta", time_zone="Europe/Berlin", currency="EUR")


@pytest.fixture
def admin_member(tenant) -> Membership:
    with tenant_context(tenant):
        return Membership.objects.select_related("user").get(role=Role.ADMIN)


@pytest.fixture
def member(tenant):
    """member(role="sales_rep", team="East", tenant=tenant, email=None) -> an active Membership."""

    def _member(role: str = Role.SALES_REP, team: str | None = None, tenant=tenant, email: str | None = None):
        team_obj = TeamFactory(tenant=tenant, name=team) if team else None
        user = UserFactory(email=email) if email else UserFactory()
        return MembershipFactory(tenant=tenant, user=user, role=role, team=team_obj)

    return _member


@pytest.fixture
def client_for():
    def _client_for(membership: Membership) -> Client:
        client = Client()
        client.force_login(membership.user)
        return client

    return _client_for


@pytest.fixture
def api_client_for():
    def _api_client_for(membership: Membership) -> APIClient:
        key = services.api_token_create(tenant=membership.tenant, user=membership.user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _api_client_for


@pytest.fixture
def in_tenant(tenant):
    """Run the test body inside the tenant's context (for direct service/selector calls)."""
    with tenant_context(tenant):
        yield tenant


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """A skipped test is a failing test: CI must never pass with skips."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        session.exitstatus = 1
