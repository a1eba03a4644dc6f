"""Shared checks of the accounts writes: the acting user's membership, tenant and live-record checks, history
stamping and the version-checked (optimistic-locked) update of accounts and contacts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact
from crm.errors import ConflictError
from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Tenant, User


def _history(actor: User | None) -> AbstractContextManager[Any]:
    """Stamp the actor into the pghistory context (None: the system, so no earlier actor leaks in)."""
    return history_actor(actor)


def _same_tenant(tenant: Tenant, obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValidationError(
            {field: _("Select a valid choice. That choice is not one of the available choices.")}
        )


def _check_member(tenant: Tenant, user: User | None, field: str = "owner") -> None:
    if user is None:
        return
    if not Membership.objects.filter(tenant=tenant, user=user, status=MembershipStatus.ACTIVE).exists():
        raise ValidationError({field: _("The owner must be an active member of this company.")})


def _check_live(obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "deleted_at", None) is not None:
        raise ValidationError({field: _("This record was deleted.")})


def _attname(model: type[models.Model], name: str) -> str:
    """The column attribute of a concrete field (`owner` -> `owner_id`). Callers pass only names of concrete
    fields (a *_FIELDS tuple, a unique constraint), never reverse relations, which have no attname."""
    return cast(models.Field, model._meta.get_field(name)).attname


def _unknown_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def _version_conflict(obj: Account | Contact, version: int | None, current: dict) -> ConflictError:
    return ConflictError(
        _(
            "This record was changed by someone else since you opened it. Review their changes and save again."
        ),
        your_version=version,
        current_version=obj.version,
        current=current,
    )


# The models with optimistic locking (a `version` column) that _locked_update writes.
_Versioned = TypeVar("_Versioned", Account, Contact)


def _locked_update(
    model: type[_Versioned],
    obj: _Versioned,
    *,
    tenant: Tenant,
    version: int | None,
    values: dict[str, Any],
    snapshot: Callable[[_Versioned], dict[str, Any]],
) -> _Versioned:
    """UPDATE ... WHERE version = v; zero rows means a concurrent change: ConflictError with both versions."""
    qs = model.objects.filter(tenant=tenant, pk=obj.pk)
    if version is not None:
        qs = qs.filter(version=version)
    updated = qs.update(**values, version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        current = model.objects.filter(tenant=tenant, pk=obj.pk).first()
        if current is None:
            raise model.DoesNotExist
        raise _version_conflict(current, version, snapshot(current))
    obj.refresh_from_db()
    return obj


def _membership(*, tenant: Tenant, actor: User | None) -> Membership | None:
    """The actor's active membership; None for system actors (tasks, imports without a user)."""
    if actor is None:
        return None
    membership = getattr(actor, "_deal_membership_cache", None)
    if membership is not None and membership.tenant_id == tenant.pk:
        return membership
    membership = (
        Membership.objects.select_related("team")
        .filter(tenant=tenant, user=actor, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("You are not a member of this company."))
    actor._deal_membership_cache = membership  # type: ignore[attr-defined]  # a per-instance cache
    return membership
