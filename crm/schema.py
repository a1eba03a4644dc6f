"""drf-spectacular extensions: document the per-tenant token scheme; helpers for request/response examples."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import Direction, OpenApiExample, OpenApiResponse
from rest_framework import serializers


class TenantTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.auth.TenantTokenAuthentication"
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` from POST /api/v1/auth/token/; valid only for its tenant.",
        }


def response_example(summary: str, value: object) -> OpenApiExample:
    """A response-only example: attached to a serializer with @extend_schema_serializer it documents every
    operation answering with that serializer (a list is wrapped in the page envelope by drf-spectacular)."""
    return OpenApiExample(summary, value=value, response_only=True)


def request_example(summary: str, value: object) -> OpenApiExample:
    return OpenApiExample(summary, value=value, request_only=True)


# --- The schema class of every operation (settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) ---------------------------

ERROR_EXAMPLE = {"detail": "Not found."}
VALIDATION_ERROR_EXAMPLE = {
    "email": ["Enter a valid email address."],
    "owner": ["You cannot make this person the owner."],
}
# The answers every tenant operation may give besides its own (crm.api_errors, crm.middleware, crm.throttling).
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: an object naming each bad field (or `detail`, or `non_field_errors`) with its messages.",
    "401": "No token or session, an unknown token, or an expired one (`code`: `token_expired`).",
    "403": "Your role may not do this (`detail` says why).",
    "404": "No such record, one you may not see, or a tenant you are not a member of: the same answer.",
    "429": "Too many requests for this token or tenant (settings API_RATE_PER_TOKEN, API_RATE_PER_TENANT; on the "
    "token endpoint: for this address or account, or its login lock-out); retry after the seconds in the "
    "Retry-After header.",
}


class ErrorSerializer(serializers.Serializer):
    """The body of 401, 403, 404 and 429 answers (and of 400s that concern the whole request)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="A machine-readable reason where one exists.")


def _blank_allowed_by_model(field: serializers.Field) -> bool:
    """Whether a serializer field shows a model text field that may be stored empty (blank=True, not null): its
    responses then hold "" although the field's enum or format would not allow it."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or "." in source or source == "*":
        return False
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return False
    return isinstance(model_field, models.CharField) and model_field.blank and not model_field.null


class CrmAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus what every operation of this API shares:

    - the error answers it gives (400 on writes and on reads that take query parameters, 401, 403, 404, 429),
      each documented with its body, unless the operation documents that code itself;
    - a text field that may be empty ("" in responses) says so: an email field allows "" besides an address and a
      choice field "" besides its choices (ModelSerializer drops allow_blank on read-only fields, so the schema
      said `size_band` was one of the sizes and `email` an address, and a blank value broke both)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):  # type: ignore[no-untyped-def]
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        blankable = isinstance(field, serializers.ChoiceField | serializers.EmailField) and (
            getattr(field, "allow_blank", False) or _blank_allowed_by_model(field)
        )
        if not blankable or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.ChoiceField) and "oneOf" in schema:
            return schema  # drf-spectacular already added its BlankEnum
        if "" in schema.get("enum", ()):
            return schema  # "" is one of the choices already (a read-only model field with blank=True)
        meta = {
            key: schema.pop(key) for key in ("readOnly", "writeOnly", "title", "description") if key in schema
        }
        nullable = schema.pop("nullable", None)
        options = [schema, {"type": "string", "enum": [""]}]
        result = {"oneOf": options, **meta}
        if nullable:
            result["nullable"] = True
        return result

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:  # type: ignore[override]
        responses = super()._get_response_bodies(direction)
        if self.path.startswith("/api/v1/auth/"):
            codes = {"400", "429"}  # the token endpoint: bad input or credentials; its throttles and lock-out
        elif not self.path.startswith("/api/v1/t/"):
            return responses
        else:
            # 403 on reads too: several are for some roles only (pool health, lifecycle settings, ...).
            codes = {"401", "403", "404", "429"}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.add("400")
        elif self._is_list_view() or self._takes_query_parameters():
            codes.add("400")  # an invalid filter, cursor or query parameter
        for code in sorted(codes):
            if code in responses:
                continue
            if code == "400":
                responses[code] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": self._validation_error_ref()}},
                }
            else:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code
                )
            if code == "429":
                responses[code]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
        return responses

    def _takes_query_parameters(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _validation_error_ref(self) -> dict[str, str]:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            object="ValidationError",
            schema={
                "type": "object",
                "description": ERROR_DESCRIPTIONS["400"],
                "additionalProperties": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "string"},
                        {"type": "object", "additionalProperties": True},
                    ]
                },
                "example": VALIDATION_ERROR_EXAMPLE,
            },
        )
        self.registry.register_on_missing(component)
        return component.ref
