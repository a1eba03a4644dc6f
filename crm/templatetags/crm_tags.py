from __future__ import annotations

from django import template

from crm import models

register = template.Library()


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def zone_label(zone: str) -> str:
    """A time zone as the reader's language names it (crm.models.zone_label)."""
    return models.zone_label(zone)


@register.filter
def value_list_name(list_key: str) -> str:
    """A value list's name ("size_band" -> Company size), translated."""
    try:
        return str(models.ValueListKey(list_key).label)
    except ValueError:
        return list_key


@register.filter
def list_label(value: str, list_key: str) -> str:
    """A stored list value as shown: a built-in value's translated label, the value itself otherwise (no query;
    a company's own label for a built-in is shown on its lists page and in the choices)."""
    from crm.value_lists import built_in_label

    return built_in_label(list_key, value or "")
