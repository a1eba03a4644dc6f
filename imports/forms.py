from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from crm.models import Membership
from imports.registry import importable_kinds


class ImportForm(StyledForm):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(label=_("CSV file (UTF-8)"))

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        if not isinstance(kind_field, forms.ChoiceField):  # declared just above; narrows the type
            raise TypeError("kind must be a ChoiceField")
        kind_field.choices = [(kind.key, kind.label) for kind in importable_kinds(membership)]
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"
