"""Feedback form of the customer-success pages. Fields only; the rules live in the services (their
ValidationError lands on the form through crm.viewutils).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from accounts.selectors.accounts import account_choices
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant
from lifecycle.models import FeedbackChannel, FeedbackKind


class FeedbackForm(StyledForm):
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(), label=_("Account"), empty_label=_("Choose an account")
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), label=_("Contact"), required=False, empty_label=_("(no contact)")
    )
    kind = forms.ChoiceField(choices=FeedbackKind.choices, label=_("Kind"))
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=10)
    channel = forms.ChoiceField(
        choices=[c for c in FeedbackChannel.choices if c[0] not in {"import", "api", "survey"}],
        label=_("Channel"),
        initial=FeedbackChannel.CALL,
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now."),
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        tenant: Tenant,
        membership: Membership,
        account: Account | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        accounts = account_choices(tenant=tenant, membership=membership)
        fields = self.fields
        fields["account"].queryset = accounts  # type: ignore[attr-defined]
        contacts = Contact.objects.filter(
            tenant=tenant, deleted_at=None, account_id__in=accounts.values("pk")
        )
        if account is not None:
            contacts = contacts.filter(account=account)
            fields["account"].initial = account.pk
            fields["account"].widget = forms.HiddenInput()
        fields["contact"].queryset = contacts.order_by("last_name", "first_name", "pk")  # type: ignore[attr-defined]
