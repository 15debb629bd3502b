"""domain/ is pure: no infrastructure imports, no clock and no random ids (they arrive on commands)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN_IMPORTS = {"eventsourcing", "litestar", "sqlalchemy", "psycopg", "infra", "api", "projections"}
FORBIDDEN_CALLS = {
    "datetime.now",
    "datetime.utcnow",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "uuid4",
    "uuid.uuid4",
}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def impurities(source: str) -> list[str]:
    """What in this module breaks the dependency rule or reads the clock or a random source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            modules = []
        found += [f"line {node.lineno}: imports {m}" for m in modules if m.split(".")[0] in FORBIDDEN_IMPORTS]
        if isinstance(node, ast.ImportFrom) and node.module == "uuid" and any(a.name == "uuid4" for a in node.names):
            found.append(f"line {node.lineno}: imports uuid4")
        if isinstance(node, ast.Call) and _dotted(node.func) in FORBIDDEN_CALLS:
            found.append(f"line {node.lineno}: calls {_dotted(node.func)}()")
    return found


@pytest.mark.parametrize("module", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_modules_import_no_infrastructure_and_read_no_clock(module: Path) -> None:
    assert impurities(module.read_text()) == []


def test_the_domain_has_modules_to_check() -> None:
    assert len(list(DOMAIN.rglob("*.py"))) >= 10
    assert {"order/decide.py", "inventory/decide.py"} <= {str(p.relative_to(DOMAIN)) for p in DOMAIN.rglob("*.py")}


@pytest.mark.parametrize(
    "source",
    [
        "import eventsourcing.application",
        "from sqlalchemy import text",
        "from infra.ledger import Kind",
        "import litestar, psycopg",
        "from api import app",
        "from projections.atp import AvailableToPromise",
        "from datetime import datetime\nwhen = datetime.now()",
        "import datetime\nwhen = datetime.datetime.utcnow()",
        "import uuid\nnew_id = uuid.uuid4()",
        "from uuid import uuid4",
    ],
)
def test_the_purity_check_catches_each_kind_of_impurity(source: str) -> None:
    assert impurities(source)


def test_the_purity_check_allows_what_the_domain_may_use() -> None:
    source = "from datetime import datetime\nfrom uuid import UUID, uuid5\nimport msgspec\nwhen = datetime(2025, 1, 1)"
    assert impurities(source) == []
