"""What the accounts forms share: the account picker (a searchable select that loads only what the member may
see), the owner choice field and the live duplicate check under the name field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.models import Tenant, User


class AccountPickerWidget(forms.Widget):
    """An account chooser that scales to a million accounts: a hidden id, the chosen name, and a search box
    that asks accounts:account-picker (htmx) for matches; static/js/accounts.js fills the hidden id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.picker_url = ""
        self.exclude_id: int | None = None
        self.chosen_label = ""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> SafeString:
        attrs = {**self.attrs, **(attrs or {})}
        field_id = attrs.get("id") or f"id_{name}"
        value = "" if value in (None, "") else str(getattr(value, "pk", value))
        invalid = " is-invalid" if "is-invalid" in attrs.get("class", "") else ""
        query = f"target={field_id}" + (f"&exclude={self.exclude_id}" if self.exclude_id else "")
        return format_html(
            '<div class="account-picker" data-picker="{id}">'
            '<input type="hidden" name="{name}" id="{id}" value="{value}">'
            '<div class="input-group">'
            '<input type="search" class="form-control{invalid}" id="{id}_search" value="{label}" '
            'placeholder="{placeholder}" autocomplete="off" aria-label="{placeholder}" name="q" '
            'hx-get="{url}?{query}" hx-trigger="input changed delay:250ms, search" hx-target="#{id}_results" '
            'data-picker-search="{id}">'
            '<button type="button" class="btn btn-outline-secondary" data-picker-clear="{id}" '
            'aria-label="{clear}"><i class="bi bi-x-lg" aria-hidden="true"></i></button>'
            "</div>"
            '<div id="{id}_results" class="list-group account-picker-results"></div>'
            "</div>",
            id=field_id,
            name=name,
            value=value,
            label=self.chosen_label,
            invalid=invalid,
            url=self.picker_url,
            query=query,
            placeholder=_("Type to search accounts"),
            clear=_("Clear"),
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name) or None


def account_picker_setup(
    field: forms.ModelChoiceField, *, tenant: Tenant, chosen: Any, exclude_id: Any = None
) -> None:
    """Point an AccountPickerWidget at the tenant's account search and show the chosen account's name."""
    _setup_picker(field, tenant=tenant, instance_value=chosen, exclude_id=exclude_id)


def _setup_picker(
    field: forms.ModelChoiceField, *, tenant: Tenant, instance_value: Any, exclude_id: Any
) -> None:
    widget = field.widget
    widget.picker_url = reverse("accounts:account-picker", kwargs={"slug": tenant.slug})
    widget.exclude_id = exclude_id
    widget.chosen_label = str(instance_value) if instance_value is not None else ""


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class _PickerMixin:
    def _chosen(self, name: str, queryset: Any) -> Any:
        """The account currently chosen (posted, initial or saved) so the picker shows its name."""
        raw = self.data.get(name) if self.is_bound else None  # type: ignore[attr-defined]
        if raw is None and not self.is_bound:  # type: ignore[attr-defined]
            raw = self.initial.get(name)  # type: ignore[attr-defined]
            if raw is None and self.instance.pk:  # type: ignore[attr-defined]
                return getattr(self.instance, name)  # type: ignore[attr-defined]
        if raw in (None, ""):
            return None
        if isinstance(raw, Account):
            return raw
        return queryset.filter(pk=raw).first() if str(raw).isdecimal() else None


def _live_duplicate_check(form: forms.BaseForm, *, url: str, names: tuple[str, ...], exclude_id: Any) -> None:
    """htmx on the identifying inputs: as the user types, possible duplicates appear under the form."""
    query = f"?exclude={exclude_id}" if exclude_id else ""
    include = ",".join(f"[name='{n}']" for n in names)
    for name in names:
        form.fields[name].widget.attrs.update(
            {
                "hx-get": url + query,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#duplicates",
                "hx-include": include,
                "hx-sync": "closest form:replace",
                "autocomplete": "off",
            }
        )
