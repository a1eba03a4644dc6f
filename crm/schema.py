"""drf-spectacular extensions: document the per-tenant token scheme; helpers for request/response examples."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample


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
