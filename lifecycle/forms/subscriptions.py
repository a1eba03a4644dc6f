"""The subscription form. It parses input only; the services validate the rules (and their errors land back
on the form, keeping what the user typed).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.forms.common import AccountPickerWidget, account_picker_setup
from accounts.models import Account
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant
from crm.widgets import ChosenOnlySelect
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import subscription_accounts, subscription_queryset

DATE = {"type": "date"}


class SubscriptionForm(StyledForm):
    # A search, not a list of every account (100,000 options cost seconds a page); the terms it may renew are
    # those of the chosen account, reloaded (htmx) when another account is picked.
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=Account.objects.none(), widget=AccountPickerWidget
    )
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
        accounts = subscription_accounts(tenant=tenant, membership=membership)
        account_field.queryset = accounts
        previous = subscription_queryset(tenant=tenant, membership=membership).select_related("account")
        renews_field = cast(forms.ModelChoiceField, self.fields["renews_from"])
        if instance is not None:
            previous = previous.filter(account_id=instance.account_id).exclude(pk=instance.pk)
            # The account of an existing subscription does not change (its history belongs to it).
            account_field.disabled = True
            account_field.widget = ChosenOnlySelect(attrs={"class": "form-select"})
            account_field.widget.choices = account_field.choices
        else:
            chosen = self._chosen_account(accounts)
            account_picker_setup(account_field, tenant=tenant, chosen=chosen)
            previous = previous.filter(account_id=chosen.pk) if chosen is not None else previous.none()
            renews_field.widget.attrs.update(
                {
                    "hx-get": reverse("lifecycle:subscription-create", kwargs={"slug": tenant.slug}),
                    "hx-trigger": "change from:#id_account",
                    "hx-include": "#id_account",
                    "hx-select": "#id_renews_from",
                    "hx-target": "this",
                    "hx-swap": "outerHTML",
                }
            )
            renews_field.help_text = _("The terms of the chosen account.")
        renews_field.queryset = previous.order_by("-start_date")
        renews_field.label_from_instance = lambda s: (  # type: ignore[method-assign,assignment]
            f"{s.account.name} · {s.plan or '—'} · {s.start_date:%Y-%m-%d}–{s.end_date or '…'}"
        )
        if not self.initial.get("currency"):
            self.fields["currency"].initial = tenant.currency

    def _chosen_account(self, accounts: Any) -> Account | None:
        """The account posted or given as initial (an id), if the member sees it."""
        raw = self.data.get("account") if self.is_bound else self.initial.get("account")
        if isinstance(raw, Account):
            return raw
        if raw in (None, "") or not str(raw).isdecimal():
            return None
        return accounts.filter(pk=int(raw)).first()

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in ("plan", "mrr", "currency", "start_date", "end_date", "renews_from", "churn_reason")
        }
        fields["external_id"] = data.get("external_id") or ""
        return fields
