"""The company's value lists: campaign channel, industry, company size, region, lost reason.

Each list is the built-in values (BUILT_IN, translated labels) plus the company's own rows (crm.ValueListItem): a
row adds a value, or renames or retires a built-in one. Active values are offered and accepted for new choices; a
retired value stays valid on the records that have it (`value_list_check(..., current=...)`). A value in use cannot
be deleted, only retired; the apps that store a list's values say where (`register_usage`, from their
AppConfig.ready(), since crm sits below them). Only admins edit the lists (EDIT_ROLES)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
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


# The list-valued fields of accounts and leads (field name -> list key).
COMPANY_LIST_FIELDS: dict[str, str] = {
    "industry": ValueListKey.INDUSTRY,
    "size_band": ValueListKey.SIZE_BAND,
    "region": ValueListKey.REGION,
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
    return _merged(list_key, rows)


def value_lists_read(*, tenant: Tenant, list_keys: Iterable[str]) -> dict[str, list[ListValue]]:
    """Several lists at once (one query): list key -> value_list()."""
    keys = list(dict.fromkeys(list_keys))
    for key in keys:
        _check_key(key)
    rows: dict[str, dict[str, ValueListItem]] = {key: {} for key in keys}
    for item in ValueListItem.objects.filter(tenant=tenant, list_key__in=keys):
        rows[item.list_key][item.value] = item
    return {key: _merged(key, rows[key]) for key in keys}


def _merged(list_key: str, rows: dict[str, ValueListItem]) -> list[ListValue]:
    rows = dict(rows)
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


def choices_of(values: list[ListValue], *, current: str = "") -> list[tuple[str, str]]:
    """(value, label) of the active values of a list read already, and `current` (a record's retired or unknown
    value) so an edit keeps it."""
    choices = [(item.value, item.label) for item in values if not item.retired]
    if current and current not in {value for value, _label in choices}:
        label = next((item.label for item in values if item.value == current), current)
        choices.append((current, label))
    return choices


def match_value(values: list[ListValue], value: str, *, current: str = "") -> str | None:
    """The stored value that `value` names in a list read already: a value or a label, any case; an active value,
    or the record's `current` one (retired values stay on the records that have them). None: not in the list."""
    if value == current:
        return value
    wanted = value.strip().lower()
    for item in values:
        if (item.value.lower() == wanted or item.label.lower() == wanted) and (
            item.value == current or not item.retired
        ):
            return item.value
    return None


def not_in_list_message(value: str, list_key: str) -> str:
    return _("“%(value)s” is not a value of this company's list of %(list)s.") % {
        "value": value,
        "list": str(ValueListKey(list_key).label).lower(),
    }


def value_lists_check(
    *,
    tenant: Tenant,
    values: Mapping[str, str | None],
    fields: Mapping[str, str],
    current: Mapping[str, str] | None = None,
    lists: dict[str, list[ListValue]] | None = None,
) -> dict[str, str]:
    """The one check of list-valued fields (forms, API, imports): `values` field -> given value, `fields` field ->
    list key, `current` field -> the record's value (an edit may keep a retired one). Returns field -> the value
    as the list stores it (a label or another case names the value); a ValidationError naming every field whose
    value is not an active value of the company's list. Empty values pass (the field's own rule decides whether
    one is needed). The lists are read in one query (or taken from `lists`)."""
    given = {field: (value or "").strip() for field, value in values.items() if field in fields}
    wanted = {fields[field] for field, value in given.items() if value}
    if lists is None or not wanted.issubset(lists):
        lists = value_lists_read(tenant=tenant, list_keys=wanted) if wanted else {}
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field, value in given.items():
        if not value:
            cleaned[field] = ""
            continue
        found = match_value(lists[fields[field]], value, current=(current or {}).get(field, "") or "")
        if found is None:
            errors[field] = not_in_list_message(value, fields[field])
        else:
            cleaned[field] = found
    if errors:
        raise ValidationError(errors)
    return cleaned


def list_value_clean(*, tenant: Tenant, list_key: str, value: str, field: str, current: str = "") -> str:
    """One value (value_lists_check of a single field): as the list stores it, or a ValidationError on `field`."""
    return value_lists_check(
        tenant=tenant, values={field: value}, fields={field: list_key}, current={field: current or ""}
    )[field]


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


# list key -> the (model, field) pairs that store its values (register_field_usage).
_FIELDS: dict[str, list[tuple[type[Model], str]]] = {}


def register_field_usage(list_key: str, model: type[Model], field: str) -> None:
    """`model.field` stores values of the list (a tenant-owned model)."""
    _FIELDS.setdefault(list_key, []).append((model, field))

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


def built_in_label(list_key: str, value: str) -> str:
    """A built-in value's translated label; any other value as it is."""
    for built_in, label in BUILT_IN.get(list_key, []):
        if built_in == value:
            return str(label)
    return value


class ValueListChoiceField(forms.ChoiceField):
    """A form field of a list value: offers the active values (and the record's own, `current`), and cleans a
    posted value with match_value, refusing anything else with the lists' own message."""

    def __init__(self, *, values: list[ListValue], list_key: str, current: str = "", **kwargs: Any) -> None:
        self.list_values = values
        self.list_key = list_key
        self.current = current or ""
        super().__init__(choices=[("", "—"), *choices_of(values, current=self.current)], **kwargs)

    def valid_value(self, value: Any) -> bool:
        return True  # clean() matches the value against the list

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        found = match_value(self.list_values, str(value), current=self.current)
        if found is None:
            raise ValidationError(not_in_list_message(str(value), self.list_key), code="invalid_choice")
        return found


def list_form_fields(
    form: forms.BaseForm,
    *,
    tenant: Tenant,
    fields: Mapping[str, str],
    current: Mapping[str, str] | None = None,
    lists: Mapping[str, list[ListValue]] | None = None,
) -> None:
    """Turn a form's list-valued fields (`fields`: field name -> list key) into ValueListChoiceFields offering
    the company's lists (read in one query, or taken from `lists`, read already for another form of the page);
    `current` holds the edited record's values."""
    if lists is None or not set(fields.values()).issubset(lists):
        lists = value_lists_read(tenant=tenant, list_keys=fields.values())
    for name, list_key in fields.items():
        old = form.fields[name]
        form.fields[name] = ValueListChoiceField(
            values=lists[list_key],
            list_key=list_key,
            current=(current or {}).get(name, ""),
            label=old.label,
            required=old.required,
            help_text=old.help_text,
        )
        form.fields[name].widget.attrs["class"] = "form-select"


def value_lists_adopt_in_use(*, tenant: Tenant) -> dict[str, list[str]]:
    """Add every value the company's records store but its lists lack (what the data migration leads 0010 did
    for existing companies; the demo calls it after seeding). A value longer than a list value stays only on its
    records. Returns list key -> the values added."""
    added: dict[str, list[str]] = {}
    for list_key, stores in _FIELDS.items():
        known = {item.value for item in value_list(tenant=tenant, list_key=list_key)}
        used: set[str] = set()
        for model, field in stores:
            used.update(
                model._default_manager.filter(tenant=tenant)
                .exclude(**{field: ""})
                .values_list(field, flat=True)
            )
        new = sorted(value for value in used - known if value.strip() and len(value) <= MAX_VALUE)
        if new:
            ValueListItem.objects.bulk_create(
                [ValueListItem(tenant=tenant, list_key=list_key, value=value) for value in new],
                ignore_conflicts=True,
            )
            added[list_key] = new
    return added
