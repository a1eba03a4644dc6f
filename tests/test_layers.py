"""The one-way house is enforced by import-linter's layers contract (pyproject.toml): run here as CI runs it,
and proven to catch a violation on a tiny tree that reuses the contract exactly as configured."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No cache: nothing is written into the checkout, and a stale graph can never hide a new import.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(cwd)},
    )


def test_the_apps_keep_the_layers_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_catches_a_lower_app_importing_a_higher_one(tmp_path):
    """The project's own [tool.importlinter] section over empty apps, then `from leads...` inside accounts/ (at
    module level and inside a function): both are reported and the run fails."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "leads" / "models.py").write_text("")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())

    assert _lint(tmp_path).returncode == 0  # the empty tree keeps the contract

    (tmp_path / "accounts" / "services.py").write_text("from leads.models import *  # noqa\n")
    (tmp_path / "accounts" / "later.py").write_text("def f():\n    from leads import models\n")
    (tmp_path / "crm" / "home.py").write_text("import accounts\n")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    for line in (
        "accounts.services -> leads.models",
        "accounts.later -> leads.models",
        "crm.home -> accounts",
    ):
        assert line in result.stdout, result.stdout


def test_the_core_imports_no_domain_app():
    """crm is the ground floor: home cards, menu entries and demo data come from registries the apps fill."""
    import grimp

    apps = [
        package
        for package in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
            "root_packages"
        ]
        if package != "crm"
    ]
    graph = grimp.build_graph("crm", *apps, cache_dir=None)
    upward = {
        (chain[0], chain[-1])
        for app in apps
        for chain in graph.find_shortest_chains(importer="crm", imported=app, as_packages=True)
    }
    assert upward == set()
