"""The campaign form (owner among active members, source among the choices a campaign may pick)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import MoneyField, StyledForm, model_choice_field
from crm.models import MembershipStatus, Tenant, User, ValueListKey
from crm.value_lists import value_list_choices
from leads.forms.leads import DATE_INPUT
from leads.models import LeadSource, SourceKind
from leads.selectors import sources as sources_selectors


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} <{obj.email}>"


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=[])
    source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.none(), required=False
    )
    source_kind = forms.ChoiceField(
        label=_("Source kind"),
        choices=[("", _("— from the source —")), *SourceKind.choices],
        required=False,
        help_text=_("Taken from the lead source when one is chosen."),
    )
    cost = MoneyField(label=_("Cost"), initial=0)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    start_date = forms.DateField(label=_("Start date"), widget=DATE_INPUT)
    end_date = forms.DateField(label=_("End date"), widget=DATE_INPUT)
    owner = UserChoiceField(label=_("Owner"), queryset=None, required=False)  # type: ignore[arg-type]
    external_id = forms.CharField(
        label=_("External id"),
        max_length=100,
        required=False,
        help_text=_("The id in another system (imports)."),
    )

    def __init__(
        self, *args: Any, tenant: Tenant, current_source: LeadSource | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        sources = sources_selectors.source_choices(tenant=tenant)
        if current_source is not None:
            sources = (sources | LeadSource.objects.filter(pk=current_source.pk)).distinct()
        model_choice_field(self.fields, "source").queryset = sources
        # Any active member may own a campaign (usually ops).
        model_choice_field(self.fields, "owner").queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE
        ).order_by("full_name", "email")
        self.fields["currency"].initial = tenant.currency
        # The company's active channels, and the campaign's own (a retired one stays valid on it).
        channel_field = self.fields["channel"]
        if isinstance(channel_field, forms.ChoiceField):
            channel_field.choices = value_list_choices(
                tenant=tenant, list_key=ValueListKey.CHANNEL, current=str(self.initial.get("channel") or "")
            )

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return data
