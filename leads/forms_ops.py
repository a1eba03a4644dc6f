"""Forms of the ops pages. They only parse input; the rules live in leads.services.ops."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.formstyle import StyledForm
from crm.models import MembershipStatus, Tenant, User
from leads.models import Channel, LeadSource, ScoringField, SizeBand, SourceKind
from leads.selectors import ops as selectors

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _split(text: str) -> list[str]:
    """Comma-, semicolon- or line-separated values (Chinese commas too)."""
    for sep in ["，", "；", ";", "\n"]:
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


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


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} <{obj.email}>"


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.none(), required=False
    )
    source_kind = forms.ChoiceField(
        label=_("Source kind"),
        choices=[("", _("— from the source —")), *SourceKind.choices],
        required=False,
        help_text=_("Taken from the lead source when one is chosen."),
    )
    cost = forms.DecimalField(label=_("Cost"), min_value=0, max_digits=18, decimal_places=2, initial=0)
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
        sources = selectors.source_choices(tenant=tenant)
        if current_source is not None:
            sources = (sources | LeadSource.objects.filter(pk=current_source.pk)).distinct()
        self.fields["source"].queryset = sources
        # Any active member may own a campaign (usually ops).
        self.fields["owner"].queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE
        ).order_by("full_name", "email")
        self.fields["currency"].initial = tenant.currency

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return data


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
        choices=SizeBand.choices,
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
        members = list(selectors.assignable_members(tenant=tenant))
        current = current_member_ids or []
        # Current members first, in their round-robin order, then everyone else.
        members.sort(key=lambda m: (current.index(m.user_id) if m.user_id in current else len(current), 0))
        self.fields["members"].choices = [
            (str(m.user_id), f"{m.user.display_name} · {m.get_role_display()}") for m in members
        ]

    def clean_regions(self) -> list[str]:
        return _split(self.cleaned_data["regions"])

    def clean_industries(self) -> list[str]:
        return _split(self.cleaned_data["industries"])

    def clean_members(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["members"]]


class TerritoryTestForm(StyledForm):
    region = forms.CharField(label=_("Region"), required=False)
    industry = forms.CharField(label=_("Industry"), required=False)
    size_band = forms.ChoiceField(
        label=_("Company size"), choices=[("", _("— any —")), *SizeBand.choices], required=False
    )


class ScoringRuleForm(StyledForm):
    """One value box per kind of field; ops.js shows the one that fits the chosen field."""

    field = forms.ChoiceField(label=pgettext_lazy("scoring rule", "When"), choices=ScoringField.choices)
    value = forms.CharField(label=_("Value"), max_length=200, required=False)
    size_band_value = forms.ChoiceField(label=_("Company size"), choices=SizeBand.choices, required=False)
    source_kind_value = forms.ChoiceField(label=_("Source kind"), choices=SourceKind.choices, required=False)
    points = forms.IntegerField(
        label=_("Points"), min_value=-100, max_value=100, help_text=_("Negative points subtract.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

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
        data = super().clean()
        field = data.get("field")
        if field == ScoringField.SIZE_BAND:
            data["value"] = data.get("size_band_value") or ""
        elif field == ScoringField.SOURCE_KIND:
            data["value"] = data.get("source_kind_value") or ""
        return data


class PeriodForm(StyledForm):
    created_from = forms.DateField(label=_("Leads created from"), required=False, widget=DATE_INPUT)
    created_to = forms.DateField(label=_("to"), required=False, widget=DATE_INPUT)
