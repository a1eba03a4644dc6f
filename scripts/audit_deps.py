"""Audit the installed Python packages for known vulnerabilities with what this network allows.

pip-audit cannot run here (docs/security-findings.md): PyPI answers its per-release look-ups with 404 and OSV is not
reachable. Two sources remain, and this script uses both, saying for each package which one covered it:

1. PyPI's project JSON (`https://pypi.org/pypi/<name>/json`, reachable as the package index is): its
   `vulnerabilities` list is that of the project's newest release, so it audits a package exactly when the
   installed version is the newest one. Any other package is reported as "not covered by PyPI" (never as clean).
2. Optionally a vulnerability database file of PyUp's safety-db (`data/insecure.json`: package → vulnerable
   version ranges), e.g. from a snapshot of github.com/pyupio/safety-db, given with `--safety-db PATH`; it covers
   every package, up to the database's date (printed).

    .venv/bin/python scripts/audit_deps.py [--safety-db insecure.json]

Exit status 1 when a finding is printed, 2 when a package could be audited by neither source, 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import urllib.error
import urllib.request
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi/{name}/json"


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def installed() -> dict[str, Version]:
    packages: dict[str, Version] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        try:
            packages[canonicalize_name(name)] = Version(dist.version)
        except InvalidVersion:
            continue
    return dict(sorted(packages.items()))


def pypi_project(name: str) -> dict | None:
    url = PYPI.format(name=name)
    if not url.startswith("https://"):  # pragma: no cover - the constant above
        raise ValueError(url)
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - a fixed https URL
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--safety-db", help="path of a safety-db insecure.json")
    parser.add_argument(
        "--skip", nargs="*", default=["pip", "setuptools", "wheel"], help="packages not audited"
    )
    args = parser.parse_args()

    safety: dict[str, list[str]] | None = None
    if args.safety_db:
        with open(args.safety_db, encoding="utf-8") as handle:
            raw = json.load(handle)
        stamp = raw.get("$meta", {}).get("timestamp")
        when = dt.datetime.fromtimestamp(stamp, tz=dt.UTC).date() if stamp else "unknown date"
        out(f"safety-db of {when}")
        safety = {canonicalize_name(k): v for k, v in raw.items() if k != "$meta"}

    findings = uncovered = 0
    packages = {n: v for n, v in installed().items() if n not in {canonicalize_name(s) for s in args.skip}}
    for name, version in packages.items():
        covered: list[str] = []
        project = pypi_project(name)
        if project is not None:
            latest = project.get("info", {}).get("version")
            if latest and Version(latest) == version:
                covered.append("PyPI")
                for vuln in project.get("vulnerabilities") or []:
                    findings += 1
                    out(
                        f"FINDING {name}=={version}: {vuln.get('id')} {vuln.get('aliases')} fixed in "
                        f"{vuln.get('fixed_in')}: {(vuln.get('summary') or vuln.get('details') or '')[:200]}"
                    )
        if safety is not None:
            covered.append("safety-db")
            for spec in safety.get(name, []):
                if version in SpecifierSet(spec, prereleases=True):
                    findings += 1
                    out(f"FINDING {name}=={version}: safety-db range {spec}")
        if not covered:
            uncovered += 1
        out(f"  {name}=={version}: {', '.join(covered) or 'NOT COVERED'}")
    out(f"{len(packages)} packages, {findings} findings, {uncovered} not covered by any source")
    if findings:
        return 1
    return 2 if uncovered else 0


if __name__ == "__main__":
    sys.exit(main())
