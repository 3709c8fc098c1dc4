"""constraints.txt pins every dependency pyproject.toml names, at a version pyproject allows: an install
with ``-c constraints.txt`` (CI's, the Dockerfile's) is the same on every machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_every_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(text) for group in (project["dependencies"], *project["optional-dependencies"].values())
              for text in group]
    pins = _pins()
    ours = canonicalize_name(project["name"])
    checked = [r for r in wanted if canonicalize_name(r.name) != ours]
    assert len(checked) > 20
    for requirement in checked:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (requirement, pins[name])
