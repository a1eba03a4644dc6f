"""Forms of the records area. Choices come from the selectors, so a record the member cannot see is never
offered and a posted id of one is refused like a missing id."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Account,
    AccountAccess,
    ActivityKind,
    Contact,
    ExchangeRate,
)
from accounts.selectors import records as selectors
from crm.formstyle import StyledForm, StyledModelForm
from crm.models import Membership, Tenant, User

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class AccountPickerWidget(forms.Widget):
    """An account chooser that scales to a million accounts: a hidden id, the chosen name, and a search box
    that asks accounts:account-picker (htmx) for matches; static/js/accounts.js fills the hidden id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.picker_url = ""
        self.exclude_id: int | None = None
        self.chosen_label = ""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        attrs = {**self.attrs, **(attrs or {})}
        field_id = attrs.get("id") or f"id_{name}"
        value = "" if value in (None, "") else str(getattr(value, "pk", value))
        invalid = " is-invalid" if "is-invalid" in attrs.get("class", "") else ""
        query = f"target={field_id}" + (f"&exclude={self.exclude_id}" if self.exclude_id else "")
        return format_html(
            '<div class="account-picker" data-picker="{id}">'
            '<input type="hidden" name="{name}" id="{id}" value="{value}">'
            '<div class="input-group">'
            '<input type="search" class="form-control{invalid}" id="{id}_search" value="{label}" '
            'placeholder="{placeholder}" autocomplete="off" aria-label="{placeholder}" name="q" '
            'hx-get="{url}?{query}" hx-trigger="input changed delay:250ms, search" hx-target="#{id}_results" '
            'data-picker-search="{id}">'
            '<button type="button" class="btn btn-outline-secondary" data-picker-clear="{id}" '
            'aria-label="{clear}"><i class="bi bi-x-lg" aria-hidden="true"></i></button>'
            "</div>"
            '<div id="{id}_results" class="list-group account-picker-results"></div>'
            "</div>",
            id=field_id,
            name=name,
            value=value,
            label=self.chosen_label,
            invalid=invalid,
            url=self.picker_url,
            query=query,
            placeholder=_("Type to search accounts"),
            clear=_("Clear"),
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name) or None


def _setup_picker(
    field: forms.ModelChoiceField, *, tenant: Tenant, instance_value: Any, exclude_id: Any
) -> None:
    widget = field.widget
    widget.picker_url = reverse("accounts:account-picker", kwargs={"slug": tenant.slug})
    widget.exclude_id = exclude_id
    widget.chosen_label = str(instance_value) if instance_value is not None else ""


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class _PickerMixin:
    def _chosen(self, name: str, queryset: Any) -> Any:
        """The account currently chosen (posted, initial or saved) so the picker shows its name."""
        raw = self.data.get(name) if self.is_bound else None  # type: ignore[attr-defined]
        if raw is None and not self.is_bound:  # type: ignore[attr-defined]
            raw = self.initial.get(name)  # type: ignore[attr-defined]
            if raw is None and self.instance.pk:  # type: ignore[attr-defined]
                return getattr(self.instance, name)  # type: ignore[attr-defined]
        if raw in (None, ""):
            return None
        if isinstance(raw, Account):
            return raw
        return queryset.filter(pk=raw).first() if str(raw).isdecimal() else None


class ActivityQuickForm(StyledForm):
    """The quick-log partial: kind, subject, optional notes and due date, plus hidden target ids."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    opportunity = forms.IntegerField(required=False, widget=forms.HiddenInput)
    timeline_id = forms.SlugField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(name) for name in ("lead", "account", "contact", "opportunity")):
            raise forms.ValidationError(_("Log the activity on a lead, account, contact or deal."))
        if data.get("kind") == ActivityKind.TASK and not data.get("subject"):
            self.add_error("subject", _("Say what needs to be done."))
        return data


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
        self.fields["owner"].queryset = selectors.members_for_choices(tenant=tenant)
        parents = selectors.account_choices(tenant=tenant, membership=membership)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        hidden_parent_id = self._hidden_saved_parent(parents)
        if hidden_parent_id is not None:
            # The saved parent is one the member may not see: it stays a valid choice (saving keeps it) but is
            # never named, exactly like on the account page.
            parents = Account.objects.filter(tenant=tenant).filter(
                Q(pk__in=parents.values("pk")) | Q(pk=hidden_parent_id)
            )
        self.fields["parent"].queryset = parents
        chosen = self._chosen("parent", parents)
        _setup_picker(
            self.fields["parent"], tenant=tenant, instance_value=chosen, exclude_id=self.instance.pk
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


def _live_duplicate_check(form: forms.BaseForm, *, url: str, names: tuple[str, ...], exclude_id: Any) -> None:
    """htmx on the identifying inputs: as the user types, possible duplicates appear under the form."""
    query = f"?exclude={exclude_id}" if exclude_id else ""
    include = ",".join(f"[name='{n}']" for n in names)
    for name in names:
        form.fields[name].widget.attrs.update(
            {
                "hx-get": url + query,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#duplicates",
                "hx-include": include,
                "hx-sync": "closest form:replace",
                "autocomplete": "off",
            }
        )


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
        accounts = selectors.account_choices(tenant=tenant, membership=membership)
        self.fields["account"].queryset = accounts
        chosen = self._chosen("account", accounts)
        _setup_picker(self.fields["account"], tenant=tenant, instance_value=chosen, exclude_id=None)
        self.fields["owner"].queryset = selectors.members_for_choices(tenant=tenant)
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


class ExchangeRateForm(StyledModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "valid_from", "rate"]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "currency": forms.TextInput(attrs={"maxlength": 3, "placeholder": "USD"}),
        }
        help_texts = {"rate": _("Units of the reporting currency for one unit of this currency.")}


class AccountMemberForm(StyledForm):
    user = OwnerChoiceField(label=_("Person"), queryset=User.objects.none(), empty_label=_("Choose a member"))
    access = forms.ChoiceField(label=_("Access"), choices=AccountAccess.choices, initial=AccountAccess.EDIT)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.members_for_choices(tenant=tenant)


MERGE_PICK = [("survivor", _("Keep")), ("merged", _("Take"))]
# Merge rows of relations show these labels (their model fields have no translated verbose_name).
RELATION_LABELS = {"owner": _("Owner"), "parent": _("Parent account"), "account": _("Account")}


class MergeForm(StyledForm):
    """Choose the survivor and, per field, whose value to keep. Built from the two records."""

    survivor = forms.ChoiceField(label=_("Keep as the surviving record"))

    def __init__(self, *args: Any, left: Any, right: Any, fields: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left, self.right, self.merge_fields = left, right, fields
        self.fields["survivor"].choices = [(str(left.pk), str(left)), (str(right.pk), str(right))]
        self.fields["survivor"].initial = str(left.pk)
        for name in fields:
            # Default: keep this record's value, unless it is empty and the other one has a value.
            initial = "right" if not _display_value(left, name) and _display_value(right, name) else "left"
            self.fields[f"pick_{name}"] = forms.ChoiceField(
                choices=[("left", "left"), ("right", "right")],
                initial=initial,
                required=False,
                widget=forms.RadioSelect,
            )

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for name in self.merge_fields:
            field = type(self.left)._meta.get_field(name)
            rows.append(
                {
                    "name": name,
                    "label": RELATION_LABELS.get(name, field.verbose_name),
                    "left": _display_value(self.left, name),
                    "right": _display_value(self.right, name),
                    "bound": self[f"pick_{name}"],
                    "pick": self[f"pick_{name}"].value() or "left",
                    "differs": _display_value(self.left, name) != _display_value(self.right, name),
                }
            )
        return rows

    def merge_arguments(self) -> tuple[Any, Any, dict[str, str]]:
        survivor_is_left = self.cleaned_data["survivor"] == str(self.left.pk)
        survivor, merged = (self.left, self.right) if survivor_is_left else (self.right, self.left)
        choices = {}
        for name in self.merge_fields:
            pick = self.cleaned_data.get(f"pick_{name}") or self.fields[f"pick_{name}"].initial
            picked_left = pick == "left"
            choices[name] = "survivor" if picked_left == survivor_is_left else "merged"
        return survivor, merged, choices


def _display_value(obj: Any, name: str) -> str:
    field = type(obj)._meta.get_field(name)
    value = getattr(obj, name)
    if value in (None, ""):
        return ""
    if field.choices:
        return str(getattr(obj, f"get_{name}_display")())
    if isinstance(value, User):
        return value.display_name
    return str(value)
