"""The contact form (create and edit)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.forms.common import (
    AccountPickerWidget,
    OwnerChoiceField,
    _live_duplicate_check,
    _PickerMixin,
    _setup_picker,
)
from accounts.models import Account, Contact
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import members as members_selectors
from crm.formstyle import StyledModelForm, model_choice_field
from crm.models import Membership, Tenant, User


class ContactForm(_PickerMixin, StyledModelForm):
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=Account.objects.none(), required=False, widget=AccountPickerWidget
    )
    owner = OwnerChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The account's owner (or you)"),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "title", "account", "owner", "external_id"]

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = accounts_selectors.account_choices(tenant=tenant, membership=membership)
        model_choice_field(self.fields, "account").queryset = accounts
        chosen = self._chosen("account", accounts)
        _setup_picker(
            model_choice_field(self.fields, "account"), tenant=tenant, instance_value=chosen, exclude_id=None
        )
        model_choice_field(self.fields, "owner").queryset = members_selectors.members_for_choices(
            tenant=tenant
        )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        _live_duplicate_check(
            self,
            url=reverse("accounts:contact-duplicates", kwargs={"slug": tenant.slug}),
            names=("email", "phone"),
            exclude_id=self.instance.pk,
        )

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
