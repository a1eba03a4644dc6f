"""Helpers shared by HTML views: map service errors onto forms so the user keeps what they typed, the conflict
screen of a stale (optimistic-locked) edit, and the soft delete / undo flow with its messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from crm.errors import AppError, ConflictError

# What a delete or restore may refuse with: a business rule, or edit rights on the record.
REFUSALS: tuple[type[Exception], ...] = (AppError, PermissionDenied)


def apply_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            if field == NON_FIELD_ERRORS:
                target = None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


# --- the conflict screen of a stale edit and the delete / undo flow, shared by every app's pages -----------------


def _comparable(value: Any) -> str:
    value = getattr(value, "pk", value)
    return "" if value in (None, "") else str(value)


def conflict_rows(
    form: forms.BaseForm,
    current: Mapping[str, Any] | object,
    *,
    fields: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    display: Callable[[str, Any], Any] | None = None,
) -> list[dict[str, Any]]:
    """What the user typed vs what is saved now, one row per field that differs (hidden technical fields such as
    `version` left out). `current` holds the saved values as the service's snapshot gives them (ids for
    relations); `display(name, value)` makes a saved value readable (an id into a name) after the comparison."""
    cleaned = getattr(form, "cleaned_data", {})
    # ConflictError.extra is typed loosely; "current" is always the snapshot mapping (crm.records.record_conflict).
    saved = cast(Mapping[str, Any], current)
    skipped = set(skip)
    rows = []
    for name in fields if fields is not None else list(form.fields):
        field = form.fields.get(name)
        if field is None or name in skipped or field.widget.is_hidden:
            continue
        mine, theirs = cleaned.get(name), saved.get(name)
        if _comparable(mine) == _comparable(theirs):
            continue
        if display is not None and theirs not in (None, ""):
            theirs = display(name, theirs)
        rows.append({"label": field.label, "mine": mine, "theirs": theirs})
    return rows


def conflict_context(exc: ConflictError, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The `conflict` of a form page: the message, the rows side by side and the version now saved."""
    return {"message": str(exc), "rows": rows, "current_version": exc.extra.get("current_version"), **extra}


def data_with_version(data: QueryDict, version: Any) -> QueryDict:
    """The posted values with the version now saved: saving again overwrites knowingly, nothing typed is lost."""
    copy = data.copy()
    copy["version"] = version
    return copy


def _flash_error(request: HttpRequest, exc: Exception) -> None:
    for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
        messages.error(request, message)


def delete_with_undo(
    request: HttpRequest,
    *,
    delete: Callable[[], object],
    done_url: str,
    error_url: str,
    message: str | None = None,
    undo_session: tuple[str, Any] | None = None,
    errors: tuple[type[Exception], ...] = REFUSALS,
) -> HttpResponse:
    """Run a soft delete; a refusal is flashed and goes to `error_url`. On success the undo is offered: through
    `undo_session` (a session key the list page pops) or a `?deleted=<id>` in `done_url`."""
    try:
        delete()
    except errors as exc:
        _flash_error(request, exc)
        return redirect(error_url)
    if undo_session is not None:
        request.session[undo_session[0]] = undo_session[1]
    if message:
        messages.success(request, message)
    return redirect(done_url)


def restore_deleted(
    request: HttpRequest,
    *,
    restore: Callable[[], object],
    done_url: str,
    error_url: str,
    message: str,
    errors: tuple[type[Exception], ...] = REFUSALS,
) -> HttpResponse:
    """Undo a soft delete; a refusal (e.g. "merged: undo the merge instead") is flashed and goes to `error_url`."""
    try:
        restore()
    except errors as exc:
        _flash_error(request, exc)
        return redirect(error_url)
    messages.success(request, message)
    return redirect(done_url)
