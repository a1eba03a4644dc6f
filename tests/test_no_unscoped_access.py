"""STYLE.md: `all_tenants` (and raw SQL, which RLS alone guards) appear only in crm/, migrations, admin.py files
and management commands. Everything else goes through the tenant-scoped `objects` manager."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The manager's name as a whole word (`Lead.all_tenants`, `getattr(m, "all_tenants")`), not a longer name that
# merely ends in it (a task called `return_stale_leads_all_tenants` fans out per tenant and is fine).
FORBIDDEN = {"all_tenants": re.compile(r"\ball_tenants\b"), ".raw(": re.compile(r"\.raw\(")}
SKIPPED_DIRS = {".venv", "node_modules", "migrations", ".git", "var", "static", "staticfiles"}
SKIPPED_TOP_LEVEL = {"tests", "crm"}


def is_allowed(relative: Path) -> bool:
    parts = relative.parts
    if parts[0] in SKIPPED_TOP_LEVEL or "migrations" in parts or relative.name == "admin.py":
        return True
    return any(parts[i : i + 2] == ("management", "commands") for i in range(len(parts) - 1))


def python_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        found.append(relative)
    return sorted(found)


def unscoped_uses(root: Path) -> list[str]:
    hits = []
    for relative in python_files(root):
        if is_allowed(relative):
            continue
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for needle, pattern in FORBIDDEN.items():
                if pattern.search(line):
                    hits.append(f"{relative}:{number}: {needle} in {line.strip()}")
    return hits


def test_no_unscoped_access_outside_the_tenancy_core():
    assert python_files(REPO), "found no Python files to check"
    hits = unscoped_uses(REPO)
    assert not hits, (
        "`all_tenants` and raw SQL belong only in crm/, migrations, admin.py and management commands "
        "(STYLE.md, Tenant scoping); use the scoped `objects` manager and services/selectors instead:\n"
        + "\n".join(hits)
    )


def test_the_check_finds_violations_and_allows_the_exceptions(tmp_path):
    files = {
        "leads/selectors.py": "Lead.all_tenants.filter(x=1)\n",
        "accounts/views.py": "Account.objects.raw('SELECT 1')\n",
        "accounts/admin.py": "Account.all_tenants.all()\n",
        "leads/migrations/0002_data.py": "Lead.all_tenants.all()\n",
        "leads/management/commands/rebuild.py": "Lead.all_tenants.all()\n",
        "crm/selectors.py": "Membership.all_tenants.all()\n",
        "tests/test_x.py": "Lead.all_tenants.all()\n",
        ".venv/lib/site.py": "x.all_tenants\n",
        "node_modules/pkg/setup.py": "x.raw(1)\n",
        "leads/services.py": "Lead.objects.filter(tenant=tenant)\n",
        "leads/tasks.py": "def return_stale_leads_all_tenants():\n    getattr(Lead, 'all_tenants')\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    hits = unscoped_uses(tmp_path)
    assert [hit.split(":")[0] for hit in hits] == [
        "accounts/views.py",
        "leads/selectors.py",
        "leads/tasks.py",
    ]
    assert hits[-1].startswith("leads/tasks.py:2: all_tenants")
