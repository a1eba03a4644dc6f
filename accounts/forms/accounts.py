"""Forms of accounts: create and edit, and adding a member to the account team."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.forms.common import (
    AccountPickerWidget,
    OwnerChoiceField,
    _live_duplicate_check,
    _PickerMixin,
    _setup_picker,
)
from accounts.models import Account, AccountAccess
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import members as members_selectors
from crm.formstyle import StyledForm, StyledModelForm, model_choice_field
from crm.models import Membership, Tenant, User
from crm.value_lists import COMPANY_LIST_FIELDS, list_form_fields


class AccountForm(_PickerMixin, StyledModelForm):
    owner = OwnerChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    parent = forms.ModelChoiceField(
        label=_("Parent account"), queryset=Account.objects.none(), required=False, widget=AccountPickerWidget
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Account
        fields = [
            "name",
            "domain",
            "industry",
            "size_band",
            "region",
            "tier",
            "owner",
            "parent",
            "external_id",
        ]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "domain": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "example.com"}),
        }

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "owner").queryset = members_selectors.members_for_choices(
            tenant=tenant
        )
        # Industry, company size and region from the company's lists (the account's own value stays selectable).
        list_form_fields(
            self,
            tenant=tenant,
            fields=COMPANY_LIST_FIELDS,
            current={name: getattr(self.instance, name) for name in COMPANY_LIST_FIELDS},
        )
        parents = accounts_selectors.account_choices(tenant=tenant, membership=membership)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        hidden_parent_id = self._hidden_saved_parent(parents)
        if hidden_parent_id is not None:
            # The saved parent is one the member may not see: it stays a valid choice (saving keeps it) but is
            # never named, exactly like on the account page.
            parents = Account.objects.filter(tenant=tenant).filter(
                Q(pk__in=parents.values("pk")) | Q(pk=hidden_parent_id)
            )
        model_choice_field(self.fields, "parent").queryset = parents
        chosen = self._chosen("parent", parents)
        _setup_picker(
            model_choice_field(self.fields, "parent"),
            tenant=tenant,
            instance_value=chosen,
            exclude_id=self.instance.pk,
        )
        if chosen is not None and chosen.pk == hidden_parent_id:
            self.fields["parent"].widget.chosen_label = _("An account you cannot see (#%(id)s)") % {
                "id": hidden_parent_id
            }
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        _live_duplicate_check(
            self,
            url=reverse("accounts:account-duplicates", kwargs={"slug": tenant.slug}),
            names=("name", "domain"),
            exclude_id=self.instance.pk,
        )

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _hidden_saved_parent(self, visible: Any) -> int | None:
        parent_id = self.instance.parent_id if self.instance.pk else None
        if parent_id is None or visible.filter(pk=parent_id).exists():
            return None
        return parent_id


class AccountMemberForm(StyledForm):
    user = OwnerChoiceField(label=_("Person"), queryset=User.objects.none(), empty_label=_("Choose a member"))
    access = forms.ChoiceField(label=_("Access"), choices=AccountAccess.choices, initial=AccountAccess.EDIT)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self.fields, "user").queryset = members_selectors.members_for_choices(
            tenant=tenant
        )
