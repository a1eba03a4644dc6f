"""The tenancy core: the active-tenant context, the scoped manager and the tenant-owned model base.

Two safety nets, both fail closed:
- in the ORM, `Model.objects` filters by the active tenant and raises `TenantNotSetError` when there is none;
- in PostgreSQL, row-level security compares every row's tenant_id with the transaction-local setting
  `app.tenant_id`, which `tenant_context()` sets with `SET LOCAL` semantics (set_config(..., true)).

Unscoped access exists only as `Model.all_tenants`, allowed in crm/, migrations, admin and management commands.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import Expression
from django.utils import timezone

if TYPE_CHECKING:
    from crm.models import Tenant


class TenantNotSetError(RuntimeError):
    """A tenant-owned model was queried with no active tenant."""


_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar(
    "current_tenant", default=None
)


def get_current_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantNotSetError("No active tenant: wrap the code in tenant_context(tenant).")
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current_tenant.get()


# What this process has set for app.tenant_id / app.user_id in the current transaction, mirrored so that nested
# scopes can restore the outer values (and skip a no-op) without reading them back from the database.
_db_settings: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar(
    "db_settings", default=("", "")
)


def _set_db_settings(tenant_id: str | None, user_id: str | None) -> None:
    """Set app.tenant_id / app.user_id for the current transaction only (SET LOCAL semantics), in one query;
    a value of None is left as it is, and values already in place are not sent again."""
    current = _db_settings.get()
    names, values = [], []
    for name, value, now in (("app.tenant_id", tenant_id, current[0]), ("app.user_id", user_id, current[1])):
        if value is not None and value != now:
            names.append(name)
            values.append(value)
    if not names:
        return
    sql = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names)
    params = [item for pair in zip(names, values, strict=True) for item in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    _db_settings.set(
        (current[0] if tenant_id is None else tenant_id, current[1] if user_id is None else user_id)
    )


@contextmanager
def _db_scope(tenant_id: str | None, user_id: str | None, *, reuse: bool = False) -> Iterator[None]:
    """One transaction (or savepoint) with the given settings; nested, the outer values come back on exit (on an
    exception the rollback restores them in the database by itself). With `reuse`, a nested scope whose settings
    are already in place (read-only use) runs in the enclosing transaction with no savepoint."""
    nested = connection.in_atomic_block
    # A new outermost transaction starts with nothing set, even when the mirror still holds an enclosing scope's
    # values: on_commit callbacks (tasks run in-process after commit) run before that scope has exited.
    current = _db_settings.get() if nested else ("", "")
    if (
        reuse
        and nested
        and (tenant_id is None or tenant_id == current[0])
        and (user_id is None or user_id == current[1])
    ):
        # Already in place inside the enclosing transaction (the tenant switcher inside a request): no savepoint.
        yield
        return
    token = _db_settings.set(current)
    try:
        with transaction.atomic():
            previous = _db_settings.get()
            _set_db_settings(tenant_id, user_id)
            yield
            if nested:
                _set_db_settings(*previous)
    finally:
        _db_settings.reset(token)


@contextmanager
def tenant_context(tenant: Tenant | int, *, user_id: int | None = None) -> Iterator[Tenant]:
    """Activate `tenant` for the ORM and for PostgreSQL RLS, inside one transaction (or savepoint).

    At the outermost level the settings simply end with the transaction; nested, the previous values are
    restored on exit. On an exception the rollback restores the database settings by itself.
    """
    from crm.models import Tenant

    if not isinstance(tenant, Tenant):
        tenant = Tenant.objects.get(pk=tenant)
    token = _current_tenant.set(tenant)
    try:
        with _db_scope(str(tenant.pk), None if user_id is None else str(user_id)):
            yield tenant
    finally:
        _current_tenant.reset(token)


@contextmanager
def user_scope(user_id: int) -> Iterator[None]:
    """Let RLS show the memberships of one user across tenants (the tenant switcher, the login redirect)."""
    with _db_scope(None, str(user_id), reuse=True):
        yield


class _TenantRequired(Expression):
    """A WHERE condition that refuses to become SQL: added to querysets built with no active tenant, so any
    evaluation, subquery, update or delete raises, while building or introspecting a queryset (django-filter
    and form set-up do that at import time) stays possible."""

    conditional = True
    output_field = models.BooleanField()

    def as_sql(self, compiler, connection):  # type: ignore[no-untyped-def]
        raise TenantNotSetError("No active tenant: wrap the code in tenant_context(tenant).")


class TenantScopedQuerySet(models.QuerySet):
    pass


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):  # type: ignore[misc]
    """Default manager of tenant-owned models: always filtered by the active tenant; with none active, the
    queryset raises TenantNotSetError as soon as it would run SQL."""

    def get_queryset(self) -> models.QuerySet:
        tenant = current_tenant_or_none()
        if tenant is None:
            return super().get_queryset().filter(_TenantRequired())
        return super().get_queryset().filter(tenant_id=tenant.pk)


class TenantOwnedModel(models.Model):
    """Base of every tenant-owned model: tenant FK, timestamps, the scoped and the explicit unscoped manager."""

    tenant = models.ForeignKey("crm.Tenant", on_delete=models.PROTECT, related_name="+", editable=False)
    # A default (not auto_now_add) so imports can keep historical timestamps.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()
    all_tenants = models.Manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "all_tenants"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_id is None:
            self.tenant = get_current_tenant()
        super().save(*args, **kwargs)


def schema_queryset(model: type[models.Model]) -> models.QuerySet:
    """An empty queryset for OpenAPI schema generation, which runs with no tenant (drf-spectacular's
    `swagger_fake_view`). Use in API views: `if getattr(self, "swagger_fake_view", False): return
    schema_queryset(Model)`."""
    return model._base_manager.none()
