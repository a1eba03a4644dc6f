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
