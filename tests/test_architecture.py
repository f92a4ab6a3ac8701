"""Architecture guards (ACL-02): interface layers never query models directly; they go through selectors,
which start from accounts.scope.scoped."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fangpin"
INTERFACE_DIRS = ["web"]


def test_interface_layers_do_not_query_models_directly():
    offenders = []
    for d in INTERFACE_DIRS:
        for path in (ROOT / d).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if ".objects." in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_no_cdn_assets():
    hits = []
    for path in ROOT.rglob("*"):
        if path.suffix in {".html", ".js", ".css", ".py"} and path.is_file():
            text = path.read_text(encoding="utf-8", errors="ignore")
            for host in ("cdn.jsdelivr", "unpkg.com", "fonts.googleapis", "ajax.googleapis", "cdnjs."):
                if host in text and path.name != "test_architecture.py":
                    hits.append(f"{path.relative_to(ROOT)}: {host}")
    assert hits == []
