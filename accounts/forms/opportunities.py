"""Forms of opportunities (deals): create and edit, lost reason, move, the deal's contacts. Choices are limited to
what the member may see."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Account,
    Contact,
    ExchangeRate,
    ForecastCategory,
    Opportunity,
    OpportunityType,
    Stage,
)
from accounts.selectors.opportunities import deal_account_choices, deal_owner_choices
from crm.formstyle import MoneyField, StyledForm, choice_field, model_choice_field
from crm.models import Membership, Tenant, User, ValueListKey
from crm.value_lists import ListValue, ValueListChoiceField, list_form_fields

# Fields of the deal form that the conflict panel compares (in this order).
EDIT_FIELDS = [
    "name",
    "type",
    "amount",
    "currency",
    "stage",
    "probability",
    "forecast_category",
    "expected_close_date",
    "owner",
    "lost_reason",
    "next_step",
    "next_step_date",
]


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        # The default pipeline's and stages' names in the reader's language; a tenant's own names as typed.
        return f"{obj.pipeline.label} · {obj.label}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


def currency_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """The reporting currency first, then every currency the tenant has rates for."""
    others = (
        ExchangeRate.objects.filter(tenant=tenant)
        .exclude(currency=tenant.currency)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    return [(tenant.currency, tenant.currency)] + [(code, code) for code in others]


class OpportunityForm(StyledForm):
    """Create and edit a deal. On edit it carries `version` (optimistic locking) and `original` (the values as
    loaded, so a conflict can re-apply only what this user changed)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    type = forms.ChoiceField(label=_("Type"), choices=OpportunityType.choices)
    amount = MoneyField(label=_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"))
    stage = StageChoiceField(label=_("Stage"), queryset=Stage.objects.none())
    probability = forms.DecimalField(
        label=_("Probability"),
        min_value=0,
        max_value=1,
        max_digits=4,
        decimal_places=3,
        required=False,
        help_text=_("A fraction 0–1; empty takes the stage's default."),
    )
    forecast_category = forms.ChoiceField(label=_("Forecast category"), choices=ForecastCategory.choices)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none())
    lost_reason = forms.CharField(
        label=_("Lost reason"),
        max_length=200,
        required=False,
        help_text=_("Required when the stage is lost."),
    )
    next_step = forms.CharField(
        label=_("Next step"),
        max_length=200,
        required=False,
        help_text=_("What happens next on this deal, e.g. “Send the revised quote”."),
    )
    next_step_date = forms.DateField(
        label=_("Next step date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    original = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        membership: Membership,
        opportunity: Opportunity | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.opportunity = opportunity
        # A reason of the company's lost reason list (the deal's own, even retired, stays selectable).
        list_form_fields(
            self,
            tenant=tenant,
            fields={"lost_reason": ValueListKey.LOST_REASON},
            current={"lost_reason": opportunity.lost_reason} if opportunity is not None else None,
        )
        choice_field(self.fields, "currency").choices = currency_choices(tenant)
        stages = (
            Stage.objects.filter(tenant=tenant)
            .select_related("pipeline")
            .order_by("pipeline__order", "pipeline__name", "order")
        )
        if opportunity is not None:
            stages = stages.filter(pipeline_id=opportunity.pipeline_id)
        model_choice_field(self.fields, "stage").queryset = stages
        owners = deal_owner_choices(tenant=tenant, membership=membership)
        owner_ids = owners.values("user_id")
        # The current owner stays selectable even when the editor could not pick them (e.g. a cs edit).
        keep = (
            Q(pk=opportunity.owner_id) if opportunity is not None and opportunity.owner_id else Q(pk__in=[])
        )
        model_choice_field(self.fields, "owner").queryset = User.objects.filter(
            Q(pk__in=owner_ids) | keep
        ).order_by("full_name", "email")
        if opportunity is None:
            model_choice_field(self.fields, "account").queryset = deal_account_choices(
                tenant=tenant, membership=membership
            )
            del self.fields["version"]
            del self.fields["original"]
        else:
            del self.fields["account"]

    @classmethod
    def initial_for(cls, opportunity: Opportunity) -> dict[str, Any]:
        values = {
            "name": opportunity.name,
            "type": opportunity.type,
            "amount": opportunity.amount,
            "currency": opportunity.currency,
            "stage": opportunity.stage_id,
            "probability": opportunity.probability,
            "forecast_category": opportunity.forecast_category,
            "expected_close_date": opportunity.expected_close_date,
            "owner": opportunity.owner_id,
            "lost_reason": opportunity.lost_reason,
            "next_step": opportunity.next_step,
            "next_step_date": opportunity.next_step_date,
            "version": opportunity.version,
        }
        values["original"] = json.dumps(comparable_values(values))
        return values

    def original_values(self) -> dict[str, str]:
        try:
            data = json.loads(self.cleaned_data.get("original") or "{}")
        except (ValueError, TypeError):
            return {}
        return data if isinstance(data, dict) else {}

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in EDIT_FIELDS if name in data}
        stage = fields.pop("stage")
        fields["stage"] = stage
        fields["pipeline"] = stage.pipeline
        if fields.get("probability") is None:
            fields.pop("probability", None)
        return fields


def comparable_values(values: dict[str, Any]) -> dict[str, str]:
    """Field values as strings (ids for relations) so loaded, typed and current values compare equal."""
    result = {}
    for name in EDIT_FIELDS:
        value: Any = values.get(name)
        if hasattr(value, "pk"):
            value = value.pk
        if value is None:
            value = ""
        if name == "probability" and value != "":
            value = f"{float(value):.3f}"
        if name == "amount" and value != "":
            value = f"{float(value):.2f}"
        result[name] = str(value)
    return result


class LostForm(StyledForm):
    lost_reason = forms.CharField(label=_("Why was the deal lost?"), max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        opportunity: Opportunity | None = None,
        lists: dict[str, list[ListValue]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # A reason of the company's lost reason list (`lists`: the list read already for the page's deal form).
        list_form_fields(
            self,
            tenant=tenant,
            fields={"lost_reason": ValueListKey.LOST_REASON},
            current={"lost_reason": opportunity.lost_reason} if opportunity is not None else None,
            lists=lists,
        )


def lost_reasons_of(form: forms.BaseForm) -> dict[str, list[ListValue]]:
    """The lost reason list a form read already (its lost_reason field), for another form of the same page."""
    field = form.fields.get("lost_reason")
    if isinstance(field, ValueListChoiceField):
        return {ValueListKey.LOST_REASON: field.list_values}
    return {}


class MoveForm(forms.Form):
    stage = forms.IntegerField()
    version = forms.IntegerField(required=False)
    lost_reason = forms.CharField(max_length=200, required=False)


class OpportunityContactForm(StyledForm):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none())
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "contact").queryset = contacts
