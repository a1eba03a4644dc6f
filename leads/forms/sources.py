"""Forms of lead sources: the source form and the period of the source quality report."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from leads.forms.leads import DATE_INPUT
from leads.models import SourceKind


class SourceForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SourceKind.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Inbound: the customer came by their own need (demo request, inquiry, referral). "
            "Incentive: they left details for a reward or content (giveaway, webinar, whitepaper)."
        ),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(
        label=_("Active (can be picked on new leads)"), required=False, initial=True
    )


class PeriodForm(StyledForm):
    created_from = forms.DateField(label=_("Leads created from"), required=False, widget=DATE_INPUT)
    created_to = forms.DateField(label=_("to"), required=False, widget=DATE_INPUT)
