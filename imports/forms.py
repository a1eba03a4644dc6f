from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from crm.models import Membership, Role
from crm.value_lists import value_lists_can_edit
from imports.registry import importable_kinds


class ImportForm(StyledForm):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(label=_("CSV or XLSX file"))
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"),
        required=False,
        choices=[("", _("Detect")), ("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK")],
    )
    create_missing_owners = forms.BooleanField(
        label=_("Create missing owners as deactivated members"),
        help_text=_("An owner email that is no member of the company keeps its records as a former member."),
        required=False,
    )
    add_missing_values = forms.BooleanField(
        label=_("Add missing values to the company's lists"),
        help_text=_("Channels, industries, size bands, regions and lost reasons the lists do not have yet."),
        required=False,
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        if not isinstance(kind_field, forms.ChoiceField):  # declared just above; narrows the type
            raise TypeError("kind must be a ChoiceField")
        kind_field.choices = [(kind.key, kind.label) for kind in importable_kinds(membership)]
        self.fields["file"].widget.attrs["accept"] = (
            ".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        if membership.role != Role.ADMIN:
            del self.fields["create_missing_owners"]
        if not value_lists_can_edit(membership):
            del self.fields["add_missing_values"]
