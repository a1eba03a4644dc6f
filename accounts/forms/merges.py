"""The merge form: which record's value survives, field by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm, choice_field
from crm.models import User

MERGE_PICK = [("survivor", _("Keep")), ("merged", _("Take"))]


# Merge rows of relations show these labels (their model fields have no translated verbose_name).
RELATION_LABELS = {"owner": _("Owner"), "parent": _("Parent account"), "account": _("Account")}


class MergeForm(StyledForm):
    """Choose the survivor and, per field, whose value to keep. Built from the two records."""

    survivor = forms.ChoiceField(label=_("Keep as the surviving record"))

    def __init__(self, *args: Any, left: Any, right: Any, fields: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left, self.right, self.merge_fields = left, right, fields
        choice_field(self.fields, "survivor").choices = [
            (str(left.pk), str(left)),
            (str(right.pk), str(right)),
        ]
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
