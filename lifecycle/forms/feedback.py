"""Feedback form of the customer-success pages. Fields only; the rules live in the services (their
ValidationError lands on the form through crm.viewutils).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.forms.common import AccountPickerWidget, account_picker_setup
from accounts.models import Account, Contact
from accounts.selectors.accounts import account_choices
from crm.formstyle import StyledForm
from crm.models import Membership, Tenant
from lifecycle.models import FeedbackChannel, FeedbackKind


class FeedbackForm(StyledForm):
    # A search, not a list of every account; the contacts are those of the chosen account (reloaded by htmx
    # when another account is picked), never every contact of the tenant.
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(), label=_("Account"), widget=AccountPickerWidget
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
        # Its own ids: the feedback page also has a filter form with an "account" field (id_account).
        kwargs.setdefault("auto_id", "fb_%s")
        super().__init__(*args, **kwargs)
        accounts = account_choices(tenant=tenant, membership=membership)
        fields = self.fields
        fields["account"].queryset = accounts  # type: ignore[attr-defined]
        contacts = Contact.objects.filter(tenant=tenant, deleted_at=None)
        if account is not None:
            fields["account"].initial = account.pk
            fields["account"].widget = forms.HiddenInput()
        else:
            account = self._chosen_account(accounts)
            account_picker_setup(fields["account"], tenant=tenant, chosen=account)  # type: ignore[arg-type]
            account_id = self["account"].auto_id
            fields["contact"].widget.attrs.update(
                {
                    "hx-get": reverse("lifecycle:feedback-contacts", kwargs={"slug": tenant.slug}),
                    "hx-trigger": f"change from:#{account_id}",
                    "hx-include": f"#{account_id}",
                    "hx-target": "this",
                    "hx-swap": "outerHTML",
                }
            )
        contacts = contacts.filter(account=account) if account is not None else contacts.none()
        fields["contact"].queryset = contacts.order_by("last_name", "first_name", "pk")  # type: ignore[attr-defined]

    def _chosen_account(self, accounts: Any) -> Account | None:
        """The account posted or given as initial (an id), if the member sees it."""
        raw = self.data.get("account") if self.is_bound else self.initial.get("account")
        if raw in (None, "") or not str(raw).isdecimal():
            return None
        return accounts.filter(pk=int(raw)).first()
