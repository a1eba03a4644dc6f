"""Serializer fields shared by the accounts API modules."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Activity


class LeadField(serializers.PrimaryKeyRelatedField):
    """A lead by id. accounts does not import the leads app: the model is the one accounts' `lead` foreign keys
    point at, and until the serializer sets the leads the member may see (accounts.links) it matches none."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Activity._meta.get_field("lead").related_model._default_manager.none())
        super().__init__(**kwargs)
