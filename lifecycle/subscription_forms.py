"""Forms of the subscription, renewal and lifecycle settings pages. They parse input only; the services validate
the rules (and their errors land back on these forms, keeping what the user typed)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant, User
from lifecycle.models import MAX_WINDOW_DAYS, Subscription
from lifecycle.services.renewals import renewal_assignable_owners
from lifecycle.subscription_selectors import subscription_accounts, subscription_queryset

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


class NextTermForm(StyledForm):
    """The next term a won renewal proposes: pre-filled, editable, one click to accept."""

    plan = forms.CharField(label=_("Plan"), max_length=200, required=False)
    mrr = forms.DecimalField(label=_("MRR"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    start_date = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(
        label=_("End date"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )


class RenewalAssignForm(StyledForm):
    """Bulk hand-over of renewal deals; the deal ids come as a list of checkboxes (`deal`)."""

    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = renewal_assignable_owners(tenant=tenant, membership=membership).values("user_id")
        field = cast(forms.ModelChoiceField, self.fields["owner"])
        field.queryset = User.objects.filter(pk__in=allowed).order_by("full_name", "email")
        field.label_from_instance = lambda user: user.display_name  # type: ignore[method-assign,assignment]


class LifecycleSettingsForm(StyledForm):
    onboarding_days = forms.IntegerField(
        label=_("Onboarding days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("How long a new customer counts as onboarding (conversion)."),
    )
    grace_days = forms.IntegerField(
        label=_("Grace days"),
        min_value=0,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("Days after the last subscription ends before the account churns."),
    )
    lapse_days = forms.IntegerField(
        label=_("Lapse days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("A customer without subscriptions churns this many days after its last won deal."),
    )
    renewal_lead_days = forms.IntegerField(
        label=_("Renewal lead days"),
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        help_text=_("The renewal deal is created this many days before a subscription ends."),
    )
