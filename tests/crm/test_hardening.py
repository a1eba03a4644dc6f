"""Issue 11, item 2: deeply nested JSON is a 400 (not a RecursionError 500) on every JSON endpoint, the demo and
development servers run with DEBUG off unless asked, and no secret key is fixed in the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEEP = "[" * 5000 + "]" * 5000


def test_deeply_nested_json_to_the_token_endpoint_is_a_400(client):
    response = client.post("/api/v1/auth/token/", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_deeply_nested_json_to_a_tenant_endpoint_is_a_400(api_client_for, tenant, member):
    client = api_client_for(member())
    response = client.post(f"/api/v1/t/{tenant.slug}/activities/", data=DEEP, content_type="application/json")
    assert response.status_code == 400


def _settings_in_a_fresh_process(**env: str) -> str:
    child_env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "SECRET_KEY", "CRM_ENV"}}
    child_env.update(env)
    code = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'crm.settings'); {code}",
        ],
        cwd=BASE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_debug_is_off_unless_asked_for():
    debug, _key = _settings_in_a_fresh_process().split(" ", 1)
    assert debug == "False"
    debug, _key = _settings_in_a_fresh_process(DJANGO_DEBUG="1").split(" ", 1)
    assert debug == "True"


def test_no_secret_key_is_fixed_in_the_code():
    _debug, key = _settings_in_a_fresh_process().split(" ", 1)
    assert len(key) >= 50
    assert key == (BASE_DIR / "var" / "secret_key").read_text().strip()
    source = (BASE_DIR / "crm" / "settings.py").read_text()
    assert key not in source and "dev-only-insecure-key" not in source
    assert settings.SECRET_KEY  # the test process has one too
