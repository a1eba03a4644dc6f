"""Request parsers that answer bad bodies with 400, never a server error."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from crm.validators import control_character_message


def _first_control_character(value: Any) -> str | None:
    """The reason of the first string in a parsed JSON value that holds a control character, or None."""
    if isinstance(value, str):
        return control_character_message(value)
    if isinstance(value, dict):
        items = list(value.keys()) + list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        reason = _first_control_character(item)
        if reason is not None:
            return reason
    return None


def refuse_control_characters(data: Any) -> None:
    """400 on the field (a top-level key of the body) whose value holds a control character anywhere
    (crm.validators), before any view or serializer sees it."""
    if isinstance(data, dict):
        errors = {}
        for key, value in data.items():
            reason = _first_control_character(value) or _first_control_character(key)
            if reason is not None:
                errors[
                    key if isinstance(key, str) and not _first_control_character(key) else "non_field_errors"
                ] = [reason]
        if errors:
            raise ValidationError(errors)
        return
    reason = _first_control_character(data)
    if reason is not None:
        raise ValidationError({"non_field_errors": [reason]})


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested too deeply to parse (Python's decoder raises RecursionError at
    about a thousand levels, which would otherwise be a 500 on every JSON endpoint, the token endpoint too) and
    text with control characters (a 400 naming the field, crm.validators)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
        refuse_control_characters(data)
        return data
