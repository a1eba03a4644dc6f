"""The subscription form. It parses input only; the services validate the rules (and their errors land back
on the form, keeping what the user typed).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import subscription_accounts, subscription_queryset

DATE = {"type": "date"}


class SubscriptionForm(StyledForm):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    plan = forms.CharField(label=_("Plan"), max_length=200, required=False)
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    start_date = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(
        label=_("End date"),
        required=False,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        help_text=_("Empty: open-ended."),
    )
    renews_from = forms.ModelChoiceField(
        label=_("Renews"), queryset=Subscription.objects.none(), required=False
    )
    churn_reason = forms.CharField(
        label=_("Churn reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        membership: Membership,
        instance: Subscription | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "account": instance.account_id,
                "plan": instance.plan,
                "mrr": instance.mrr,
                "currency": instance.currency,
                "start_date": instance.start_date,
                "end_date": instance.end_date,
                "renews_from": instance.renews_from_id,
                "churn_reason": instance.churn_reason,
                "external_id": instance.external_id,
                "version": instance.version,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        account_field = cast(forms.ModelChoiceField, self.fields["account"])
        account_field.queryset = subscription_accounts(tenant=tenant, membership=membership).order_by("name")
        previous = subscription_queryset(tenant=tenant, membership=membership).select_related("account")
        if instance is not None:
            previous = previous.filter(account_id=instance.account_id).exclude(pk=instance.pk)
            # The account of an existing subscription does not change (its history belongs to it).
            self.fields["account"].disabled = True
        renews_field = cast(forms.ModelChoiceField, self.fields["renews_from"])
        renews_field.queryset = previous.order_by("-start_date")
        renews_field.label_from_instance = lambda s: (  # type: ignore[method-assign,assignment]
            f"{s.account.name} · {s.plan or '—'} · {s.start_date:%Y-%m-%d}–{s.end_date or '…'}"
        )
        if not self.initial.get("currency"):
            self.fields["currency"].initial = tenant.currency

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in ("plan", "mrr", "currency", "start_date", "end_date", "renews_from", "churn_reason")
        }
        fields["external_id"] = data.get("external_id") or ""
        return fields
