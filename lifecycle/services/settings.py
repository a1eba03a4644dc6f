"""The tenant's lifecycle settings: defaults on first read, validated updates that trigger a whole-tenant
recompute (a window changed, so every account's derived history may move)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.history import history_actor
from crm.models import Tenant, User
from lifecycle.models import LifecycleSettings

SETTING_FIELDS = (
    "onboarding_days",
    "grace_days",
    "lapse_days",
    "renewal_lead_days",
    "health_at_risk_threshold",
)
# The fields whose change moves the stage rules (and so the derived history).
STAGE_FIELDS = frozenset({"onboarding_days", "grace_days", "lapse_days"})


def lifecycle_settings_get(*, tenant: Tenant) -> LifecycleSettings:
    """The tenant's settings, created with the defaults on first use (safe under concurrent first reads)."""
    found = LifecycleSettings.objects.filter(tenant=tenant).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LifecycleSettings.objects.create(tenant=tenant)
    except IntegrityError:
        return LifecycleSettings.objects.get(tenant=tenant)


@transaction.atomic
def lifecycle_settings_update(*, tenant: Tenant, actor: User | None, **fields: Any) -> LifecycleSettings:
    """Change some settings (whole numbers within their bounds). A change of a stage window schedules a
    recompute of every account of the tenant after commit."""
    from lifecycle.services.stages import lifecycle_schedule_recompute

    unknown = set(fields) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = lifecycle_settings_get(tenant=tenant)
    current = LifecycleSettings.objects.select_for_update().get(pk=current.pk)
    errors: dict[str, list[str]] = {}
    changed: set[str] = set()
    for name, raw in fields.items():
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors.setdefault(name, []).append(_("Enter a whole number."))
            continue
        if isinstance(raw, float) and raw != value:
            errors.setdefault(name, []).append(_("Enter a whole number."))
            continue
        if getattr(current, name) != value:
            setattr(current, name, value)
            changed.add(name)
    try:
        current.full_clean(exclude=["tenant", *errors])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if changed:
        with history_actor(actor):
            current.save()
        if changed & STAGE_FIELDS:
            lifecycle_schedule_recompute(tenant_id=tenant.pk, account_ids=None)
    return current
