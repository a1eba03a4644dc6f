"""The company's value lists: campaign channel, industry, company size, region, lost reason.

Each list is the built-in values (BUILT_IN, translated labels) plus the company's own rows (crm.ValueListItem): a
row adds a value, or renames or retires a built-in one. Active values are offered and accepted for new choices; a
retired value stays valid on the records that have it (`value_list_check(..., current=...)`). A value in use cannot
be deleted, only retired; the apps that store a list's values say where (`register_usage`, from their
AppConfig.ready(), since crm sits below them). Only admins edit the lists (EDIT_ROLES)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.history import history_actor
from crm.models import Membership, Role, Tenant, User, ValueListItem, ValueListKey
from crm.validators import check_no_control_characters

EDIT_ROLES = frozenset({Role.ADMIN})
MAX_VALUE = 100

# The values every company starts with. Channel and company size are those the apps have always offered
# (leads.models.Channel, accounts.models.SizeBand; a test keeps them equal); industry, region and lost reason
# start with common values, which each company renames, retires or adds to.
BUILT_IN: dict[str, list[tuple[str, str | Promise]]] = {
    ValueListKey.CHANNEL: [
        ("email", gettext_lazy("Email")),
        ("event", gettext_lazy("Event / trade show")),
        ("webinar", gettext_lazy("Webinar")),
        ("paid_search", gettext_lazy("Paid search")),
        ("social", gettext_lazy("Social")),
        ("content", gettext_lazy("Content")),
        ("referral", gettext_lazy("Referral")),
        ("partner", gettext_lazy("Partner")),
        ("other", gettext_lazy("Other")),
    ],
    ValueListKey.SIZE_BAND: [
        ("1-10", "1–10"),
        ("11-50", "11–50"),
        ("51-200", "51–200"),
        ("201-1000", "201–1000"),
        ("1001-5000", "1001–5000"),
        ("5000+", "5000+"),
    ],
    ValueListKey.INDUSTRY: [],
    ValueListKey.REGION: [],
    ValueListKey.LOST_REASON: [
        ("Price", gettext_lazy("Price")),
        ("Competitor", gettext_lazy("Competitor")),
        ("No budget", gettext_lazy("No budget")),
        ("No decision", gettext_lazy("No decision")),
        ("Timing", gettext_lazy("Timing")),
    ],
}


@dataclass(frozen=True)
class ListValue:
    value: str
    label: str
    built_in: bool
    retired: bool
    # The company's row (None: a built-in value as shipped).
    item_id: int | None = None


def value_lists_can_edit(membership: Membership | None) -> bool:
    return membership is not None and membership.role in EDIT_ROLES


def _check_key(list_key: str) -> None:
    if list_key not in ValueListKey.values:
        raise ValidationError({"list": _("Unknown list.")})


def value_list(*, tenant: Tenant, list_key: str) -> list[ListValue]:
    """Every value of the list, built-ins first in their order, then the company's own by value (one query)."""
    _check_key(list_key)
    rows = {item.value: item for item in ValueListItem.objects.filter(tenant=tenant, list_key=list_key)}
    values = []
    for value, label in BUILT_IN[list_key]:
        item = rows.pop(value, None)
        values.append(
            ListValue(
                value=value,
                label=(item.label if item and item.label else str(label)),
                built_in=True,
                retired=bool(item and item.retired_at),
                item_id=item.pk if item else None,
            )
        )
    for value in sorted(rows, key=str.lower):
        item = rows[value]
        values.append(
            ListValue(
                value=value,
                label=item.label or value,
                built_in=False,
                retired=item.retired_at is not None,
                item_id=item.pk,
            )
        )
    return values


def value_list_choices(*, tenant: Tenant, list_key: str, current: str = "") -> list[tuple[str, str]]:
    """(value, label) of the active values, and `current` (a record's retired or unknown value) so an edit keeps it."""
    choices = [
        (item.value, item.label) for item in value_list(tenant=tenant, list_key=list_key) if not item.retired
    ]
    if current and current not in {value for value, _label in choices}:
        choices.append((current, current))
    return choices


def value_list_lookup(*, tenant: Tenant, list_key: str) -> dict[str, str]:
    """Lower-cased value and label of every active value -> the value (what imports and the API match)."""
    found: dict[str, str] = {}
    for item in value_list(tenant=tenant, list_key=list_key):
        if not item.retired:
            found.setdefault(item.value.lower(), item.value)
            found.setdefault(item.label.lower(), item.value)
    return found


def value_list_check(*, tenant: Tenant, list_key: str, value: str, field: str, current: str = "") -> str:
    """`value` if it is an active value of the list (or the record's `current` value, retired values included);
    a ValidationError on `field` otherwise. Empty values pass (the field's own rule decides whether one is needed)."""
    if not value or value == current:
        return value
    if value in {item.value for item in value_list(tenant=tenant, list_key=list_key) if not item.retired}:
        return value
    raise ValidationError({field: _("“%(value)s” is not a value of this company's list.") % {"value": value}})


def _clean_value(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": _("Enter a value.")})
    if len(value) > MAX_VALUE:
        raise ValidationError({"value": _("Use at most %(n)d characters.") % {"n": MAX_VALUE}})
    check_no_control_characters(value, field="value")
    return value


def _item(tenant: Tenant, list_key: str, value: str) -> ValueListItem:
    """The company's row of a value, created for a built-in (to hold its label or retirement)."""
    item = ValueListItem.objects.filter(tenant=tenant, list_key=list_key, value=value).first()
    if item is not None:
        return item
    if value not in {built_in for built_in, _label in BUILT_IN[list_key]}:
        raise ValueListItem.DoesNotExist
    return ValueListItem.objects.create(tenant=tenant, list_key=list_key, value=value)


@transaction.atomic
def value_add(*, tenant: Tenant, actor: User | None, list_key: str, value: str, label: str = "") -> ListValue:
    """Add a value to the company's list (retired already: it is brought back)."""
    _check_key(list_key)
    value = _clean_value(value)
    label = (label or "").strip()[:200]
    if any(item.value.lower() == value.lower() for item in value_list(tenant=tenant, list_key=list_key)):
        raise ValidationError({"value": _("The list already has this value.")})
    with history_actor(actor):
        try:
            with transaction.atomic():
                item = ValueListItem.objects.create(
                    tenant=tenant, list_key=list_key, value=value, label=label
                )
        except IntegrityError:
            raise ValidationError({"value": _("The list already has this value.")}) from None
    return ListValue(
        value=item.value, label=item.label or item.value, built_in=False, retired=False, item_id=item.pk
    )


@transaction.atomic
def value_update(
    *,
    tenant: Tenant,
    actor: User | None,
    list_key: str,
    value: str,
    label: str | None = None,
    retired: bool | None = None,
) -> ListValue:
    """Rename a value's label and/or retire it or bring it back (the stored value never changes, so records and
    KPI dimensions keyed on it keep working)."""
    _check_key(list_key)
    item = _item(tenant, list_key, value)
    if label is not None:
        label = label.strip()
        if len(label) > 200:
            raise ValidationError({"label": _("Use at most %(n)d characters.") % {"n": 200}})
        check_no_control_characters(label, field="label")
        item.label = label
    if retired is not None:
        item.retired_at = (item.retired_at or timezone.now()) if retired else None
    with history_actor(actor):
        item.save()
    return next(entry for entry in value_list(tenant=tenant, list_key=list_key) if entry.value == value)


# list key -> functions (tenant, value) -> whether a record stores the value, filled by the apps (register_usage).
_USAGE: dict[str, list[Callable[[Tenant, str], bool]]] = {}


def register_usage(list_key: str, in_use: Callable[[Tenant, str], bool]) -> None:
    _USAGE.setdefault(list_key, []).append(in_use)


def register_field_usage(list_key: str, model: type[Model], field: str) -> None:
    """`model.field` stores values of the list (a tenant-owned model)."""

    def in_use(tenant: Tenant, value: str) -> bool:
        return model._default_manager.filter(tenant=tenant, **{field: value}).exists()

    register_usage(list_key, in_use)


def value_in_use(*, tenant: Tenant, list_key: str, value: str) -> bool:
    return any(in_use(tenant, value) for in_use in _USAGE.get(list_key, []))


@transaction.atomic
def value_delete(*, tenant: Tenant, actor: User | None, list_key: str, value: str) -> None:
    """Delete a value the company added and no record uses; a built-in or a value in use can only be retired."""
    _check_key(list_key)
    item = ValueListItem.objects.filter(tenant=tenant, list_key=list_key, value=value).first()
    if item is None or value in {built_in for built_in, _label in BUILT_IN[list_key]}:
        raise ValidationError({"value": _("A built-in value cannot be deleted; retire it instead.")})
    if value_in_use(tenant=tenant, list_key=list_key, value=value):
        raise ValidationError({"value": _("Records use this value: retire it instead of deleting it.")})
    with history_actor(actor):
        item.delete()
