"""The registry is upstream: it never imports monitoring, trust or screening (they register hooks at
start-up), and nothing reaches another part through module-name strings."""

from __future__ import annotations

import ast
from pathlib import Path

import fangpin
from fangpin.registry import hooks

ROOT = Path(fangpin.__file__).parent


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_registry_imports_no_downstream_part():
    bad = {}
    for path in (ROOT / "registry").rglob("*.py"):
        if "tests" in path.parts:
            continue
        found = {
            m
            for m in _imports(path)
            if m.split(".")[:2] in (["fangpin", p] for p in ("monitoring", "trust", "screening"))
        }
        if found:
            bad[str(path.relative_to(ROOT))] = found
    assert bad == {}


def test_no_part_loads_another_by_module_name():
    users = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "tests" not in p.parts and "importlib" in _imports(p) and p.parts[-3:-1] != ("registry", "checks")
    ]
    assert users == []


def test_monitoring_and_trust_registered_their_hooks():
    from fangpin.monitoring import selectors
    from fangpin.monitoring.services.enrolment import enrol_existing

    m = hooks.monitoring()
    assert m.enrol_existing is enrol_existing and m.objects_on is selectors.monitoring_objects_on
    assert [name for name, _ in hooks.move_followers()] == ["monitoring", "trust"]
