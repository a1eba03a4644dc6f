"""The scoring rule form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.formstyle import StyledForm, choice_field
from crm.models import Tenant
from leads.forms.territories import size_band_choices
from leads.models import ScoringField, SourceKind


class ScoringRuleForm(StyledForm):
    """One value box per kind of field; ops.js shows the one that fits the chosen field."""

    field = forms.ChoiceField(label=pgettext_lazy("scoring rule", "When"), choices=ScoringField.choices)
    value = forms.CharField(label=_("Value"), max_length=200, required=False)
    size_band_value = forms.ChoiceField(label=_("Company size"), choices=[], required=False)
    source_kind_value = forms.ChoiceField(label=_("Source kind"), choices=SourceKind.choices, required=False)
    points = forms.IntegerField(
        label=_("Points"), min_value=-100, max_value=100, help_text=_("Negative points subtract.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The company's size bands (its list), and the rule's own band if it was retired since.
        current = str((self.initial or {}).get("size_band_value") or "")
        choice_field(self.fields, "size_band_value").choices = size_band_choices(
            tenant, [current] if current else []
        )

    @classmethod
    def initial_for(cls, rule: Any) -> dict:
        initial = {
            "field": rule.field,
            "value": rule.value,
            "points": rule.points,
            "is_active": rule.is_active,
        }
        if rule.field == ScoringField.SIZE_BAND:
            initial["size_band_value"] = rule.value
        if rule.field == ScoringField.SOURCE_KIND:
            initial["source_kind_value"] = rule.value
        return initial

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        field = data.get("field")
        if field == ScoringField.SIZE_BAND:
            data["value"] = data.get("size_band_value") or ""
        elif field == ScoringField.SOURCE_KIND:
            data["value"] = data.get("source_kind_value") or ""
        return data
