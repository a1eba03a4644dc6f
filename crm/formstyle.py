"""Bootstrap classes (and the page's language on date pickers) on every form widget, so templates render fields with plain `{{ field }}`; typed access to
the choice fields of a form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import get_language, gettext_lazy

from crm.money import AMOUNT_TOO_LARGE, MAX_AMOUNT
from crm.validators import validate_no_control_characters


class StyledFormMixin:
    """Bootstrap classes on the widgets; every text field refuses control characters (crm.validators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.CharField):
                # The form's own copy of the field (Django deep-copies base_fields), so this adds once per form.
                field.validators.append(validate_no_control_characters)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            _replace_dashes(field)
            if getattr(widget, "input_type", None) == "date":
                # The date picker in the page's language (forms are built per request, under its language).
                widget.attrs["lang"] = get_language()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        names = [field] if field else list(getattr(error, "error_dict", {}).keys())
        for name in names:
            if name in self.fields:  # type: ignore[attr-defined]
                attrs = self.fields[name].widget.attrs  # type: ignore[attr-defined]
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"


# Django's empty choice reads "---------" in every language; ours says what to do, in the page's language.
DJANGO_EMPTY_LABEL = "---------"
CHOOSE = gettext_lazy("Choose…")


def _replace_dashes(field: forms.Field) -> None:
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == DJANGO_EMPTY_LABEL:
            field.empty_label = CHOOSE
            field.widget.choices = field.choices
    elif isinstance(field, forms.ChoiceField) and isinstance(field.choices, list | tuple):
        # Only plain lists: choices from a callable or an iterator (a query) are left alone, as listing them
        # here would run the query once more.
        choices: list[Any] = list(field.choices)  # type: ignore[arg-type]
        if any(value == "" and label == DJANGO_EMPTY_LABEL for value, label in choices):
            field.choices = [
                (value, CHOOSE if value == "" and label == DJANGO_EMPTY_LABEL else label)
                for value, label in choices
            ]


class StyledForm(StyledFormMixin, forms.Form):
    pass


class StyledModelForm(StyledFormMixin, forms.ModelForm):
    pass


def model_choice_field(fields: Mapping[str, forms.Field], name: str) -> forms.ModelChoiceField:
    """`fields[name]` as the ModelChoiceField it is declared as (a form's fields are plain Fields to the type
    checker), to set its queryset per request."""
    field = fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a ModelChoiceField")
    return field


def choice_field(fields: Mapping[str, forms.Field], name: str) -> forms.ChoiceField:
    """`fields[name]` as the ChoiceField it is declared as, to set or read its choices."""
    field = fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a ChoiceField")
    return field


def field_queryset(fields: Mapping[str, forms.Field], name: str) -> QuerySet[Any]:
    """The queryset of the ModelChoiceField `fields[name]`, which the form's __init__ has set."""
    queryset = model_choice_field(fields, name).queryset
    if queryset is None:
        raise TypeError(f"{name} has no queryset")
    return queryset


class MoneyField(forms.DecimalField):
    """An amount of money: not negative, at most two decimals, and no more than crm.money.MAX_AMOUNT (one clear
    message instead of Django's digit counts)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs["error_messages"] = {"max_value": AMOUNT_TOO_LARGE, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)
