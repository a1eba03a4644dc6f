"""Forms of territories: the territory form (criteria, members in round-robin order) and the match test."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm, choice_field
from crm.models import Tenant, ValueListKey
from crm.value_lists import choices_of, value_list
from leads.selectors import territories as territories_selectors


def _split(text: str) -> list[str]:
    """Comma-, semicolon- or line-separated values (Chinese commas too)."""
    for sep in ["，", "；", ";", "\n"]:
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


class TerritoryForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    priority = forms.IntegerField(
        label=_("Priority"), min_value=0, initial=100, help_text=_("Lower numbers are tried first.")
    )
    regions = forms.CharField(
        label=_("Regions"), required=False, help_text=_("Comma-separated; empty matches any region.")
    )
    industries = forms.CharField(
        label=_("Industries"), required=False, help_text=_("Comma-separated; empty matches any industry.")
    )
    size_bands = forms.MultipleChoiceField(
        label=_("Company sizes"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked matches any size."),
    )
    members = forms.MultipleChoiceField(
        label=_("Members (round-robin order)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Active admins, sales managers and sales reps. Leads go to them in turn."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self, *args: Any, tenant: Tenant, current_member_ids: list[int] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        # The company's size bands (its list), and the bands the territory kept after they were retired.
        kept = list((self.initial or {}).get("size_bands") or [])
        choice_field(self.fields, "size_bands").choices = size_band_choices(tenant, kept)
        members = list(territories_selectors.assignable_members(tenant=tenant))
        current = current_member_ids or []
        # Current members first, in their round-robin order, then everyone else.
        members.sort(key=lambda m: (current.index(m.user_id) if m.user_id in current else len(current), 0))
        choice_field(self.fields, "members").choices = [
            (str(m.user_id), f"{m.user.display_name} · {m.get_role_display()}") for m in members
        ]

    def clean_regions(self) -> list[str]:
        return _split(self.cleaned_data["regions"])

    def clean_industries(self) -> list[str]:
        return _split(self.cleaned_data["industries"])

    def clean_members(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["members"]]


def size_band_choices(tenant: Tenant, kept: list[str]) -> list[tuple[str, str]]:
    """(value, label) of the company's active size bands, then `kept` values no longer active."""
    values = value_list(tenant=tenant, list_key=ValueListKey.SIZE_BAND)
    choices = choices_of(values)
    labels = {item.value: item.label for item in values}
    return choices + [(value, labels.get(value, value)) for value in kept if value not in dict(choices)]


class TerritoryTestForm(StyledForm):
    region = forms.CharField(label=_("Region"), required=False)
    industry = forms.CharField(label=_("Industry"), required=False)
    size_band = forms.ChoiceField(label=_("Company size"), choices=[("", _("— any —"))], required=False)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self.fields, "size_band").choices = [("", _("— any —")), *size_band_choices(tenant, [])]
