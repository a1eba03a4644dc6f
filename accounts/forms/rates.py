"""The exchange-rate form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ExchangeRate
from crm.formstyle import StyledModelForm


class ExchangeRateForm(StyledModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from", "rate"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "currency": forms.TextInput(attrs={"maxlength": 3, "placeholder": "USD"}),
        }
        help_texts = {"rate": _("Units of the reporting currency for one unit of this currency.")}
