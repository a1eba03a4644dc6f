"""Every tenant API operation in the OpenAPI schema carries examples: one for its request body (writes) and one
for its main 2xx JSON response, so /api/docs/ shows a client what to send and what comes back."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

TENANT_PREFIX = "/api/v1/t/{slug}/"
WRITE_METHODS = ("post", "put", "patch")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(db) -> dict[str, Any]:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _tenant_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith(TENANT_PREFIX)
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _has_example(media: dict[str, Any]) -> bool:
    return bool(media.get("examples")) or "example" in media


def _json_media(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [media for media_type, media in content.items() if media_type.split(";")[0].endswith("json")]


def _main_success_response(operation: dict[str, Any]) -> dict[str, Any] | None:
    codes = sorted(code for code in operation["responses"] if code.startswith("2") and code != "204")
    return operation["responses"][codes[0]] if codes else None


def _label(path: str, method: str, operation: dict[str, Any]) -> str:
    return f"{operation.get('operationId', '?')} ({method.upper()} {path})"


def test_the_schema_has_tenant_operations(schema):
    assert len(_tenant_operations(schema)) > 50


def test_every_tenant_write_with_a_body_has_a_request_example(schema):
    missing = [
        _label(path, method, operation)
        for path, method, operation in _tenant_operations(schema)
        if method in WRITE_METHODS
        and "requestBody" in operation
        and not any(_has_example(media) for media in operation["requestBody"]["content"].values())
    ]
    assert not missing, "write operations without a request example:\n" + "\n".join(sorted(missing))


def test_every_tenant_operation_has_a_json_response_example(schema):
    missing = []
    for path, method, operation in _tenant_operations(schema):
        response = _main_success_response(operation)
        if response is None:
            continue
        json_media = _json_media(response.get("content", {}))
        if json_media and not any(_has_example(media) for media in json_media):
            missing.append(_label(path, method, operation))
    assert not missing, "operations without a 2xx JSON response example:\n" + "\n".join(sorted(missing))


def test_list_response_examples_are_not_wrapped_twice(schema):
    """drf-spectacular wraps the example of a many=True response in the list (and the page) itself: an example
    whose value is already a list shows a list of lists."""
    wrapped = []
    for path, method, operation in _tenant_operations(schema):
        for response in operation["responses"].values():
            for media in _json_media(response.get("content", {})):
                for name, example in (media.get("examples") or {}).items():
                    value = example.get("value")
                    items = value.get("results") if isinstance(value, dict) else value
                    if isinstance(items, list) and items and isinstance(items[0], list):
                        wrapped.append(f"{_label(path, method, operation)}: {name}")
    assert not wrapped, "list examples wrapped twice:\n" + "\n".join(sorted(wrapped))


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or len(node.get("allOf", ())) == 1:
        node = (
            node["allOf"][0]
            if "allOf" in node
            else schema["components"]["schemas"][node["$ref"].split("/")[-1]]
        )
    return node


def _field_problems(schema: dict[str, Any], value: Any, node: dict[str, Any], where: str) -> list[str]:
    """Unknown fields and missing required fields of an example, recursively (objects and arrays)."""
    node = _resolve(schema, node)
    if isinstance(value, list) and node.get("type") == "array":
        return [
            problem
            for item in value
            for problem in _field_problems(schema, item, node.get("items", {}), f"{where}[]")
        ]
    if not isinstance(value, dict) or "properties" not in node:
        return []
    properties = node["properties"]
    problems = [f"{where}: unknown field {name!r}" for name in sorted(set(value) - set(properties))]
    problems += [f"{where}: missing {name!r}" for name in sorted(set(node.get("required", ())) - set(value))]
    for name, item in value.items():
        if name in properties:
            problems += _field_problems(schema, item, properties[name], f"{where}.{name}")
    return problems


def test_examples_use_the_fields_of_their_schema(schema):
    problems = []
    for path, method, operation in _tenant_operations(schema):
        bodies = [("request", operation["requestBody"])] if "requestBody" in operation else []
        bodies += list(operation["responses"].items())
        for code, body in bodies:
            for media_type, media in body.get("content", {}).items():
                for name, example in (media.get("examples") or {}).items():
                    where = f"{_label(path, method, operation)} {code} {media_type} {name}"
                    problems += _field_problems(schema, example.get("value"), media["schema"], where)
    assert not problems, "examples that do not match their schema:\n" + "\n".join(problems)


def test_schema_validates_without_warnings(tmp_path):
    """drf-spectacular's own check: the schema is valid OpenAPI 3 and generating it raised no warning (enum
    name clashes, unresolvable serializers), so the docs show what the API does."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")
