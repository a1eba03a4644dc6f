"""Form widgets that stay cheap whatever the number of records."""

from __future__ import annotations

from typing import Any

from django import forms


class ChosenOnlySelect(forms.Select):
    """A select of a model choice that lists only the empty choice and the chosen record, never the whole table.

    A filter of 100,000 accounts rendered as a full <select> costs seconds a page; this one costs one query (the
    chosen record's label). Records are picked elsewhere (a link from the record's page, or a name search beside
    it) and come in as an id; the field validates the id against its queryset as before, so an id of another
    tenant or an invisible record is still refused."""

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> list[Any]:
        choices = self.choices
        queryset = getattr(choices, "queryset", None)
        field = getattr(choices, "field", None)
        if queryset is None or field is None:
            return super().optgroups(name, value, attrs)
        groups: list[Any] = []
        chosen = {str(v) for v in value if v not in (None, "")}
        options: list[tuple[Any, str]] = []
        if field.empty_label is not None:
            options.append(("", str(field.empty_label)))
        if chosen:
            pks = [v for v in chosen if v.isdigit()]
            for obj in queryset.filter(pk__in=pks):
                options.append((str(obj.pk), field.label_from_instance(obj)))
        for index, (option_value, label) in enumerate(options):
            selected = str(option_value) in chosen or (not chosen and option_value == "")
            option = self.create_option(name, option_value, label, selected, index, attrs=attrs)
            groups.append((None, [option], index))
        return groups
