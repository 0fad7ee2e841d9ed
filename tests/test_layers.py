"""The rules the layers keep (docs/architecture.md): checked on the source, not assumed.

* imports point up only: protocol <- conformance <- bindings;
* the simulated market (``conformance/market``) imports no venue package: it takes
  instruments and error codes as data from a venue;
* protocol and conformance never touch a socket, a thread, an event loop, the clock or
  global randomness (a seeded ``random.Random(...)`` instance is allowed: it is injected);
* every package folder is listed in pyproject.toml and ships ``py.typed``.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = ("protocol", "conformance")
FORBIDDEN_MODULES = {
    "socket", "ssl", "threading", "asyncio", "trio", "anyio", "selectors",
    "subprocess", "time", "multiprocessing", "concurrent",
}  # fmt: skip
FORBIDDEN_CALLS = {
    ("os", "urandom"), ("uuid", "uuid1"), ("uuid", "uuid4"), ("secrets", "token_bytes"),
    ("secrets", "token_hex"), ("datetime", "now"), ("datetime", "utcnow"), ("date", "today"),
}  # fmt: skip
RANDOM_ALLOWED = {"Random"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", PURE)
def test_pure_layers_do_no_io_and_read_no_clock_or_global_randomness(folder: str) -> None:
    problems: list[str] = []
    for path in python_files(folder):
        tree = ast.parse(path.read_text(), str(path))
        for module in imported_modules(tree):
            if module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"{path.name}: imports {module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                pair = (node.value.id, node.attr)
                if pair in FORBIDDEN_CALLS:
                    problems.append(f"{path.name}:{node.lineno}: uses {pair[0]}.{pair[1]}")
                if node.value.id == "random" and node.attr not in RANDOM_ALLOWED:
                    problems.append(f"{path.name}:{node.lineno}: uses random.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                bad = [a.name for a in node.names if a.name not in RANDOM_ALLOWED]
                if bad:
                    problems.append(f"{path.name}: from random import {bad}")
    assert problems == []


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("protocol", ("tradewire.conformance", "tradewire.bindings")),
        ("conformance", ("tradewire.bindings",)),
    ],
)
def test_imports_point_up_only(folder: str, forbidden: tuple[str, ...]) -> None:
    problems = []
    for path in python_files(folder):
        for module in imported_modules(ast.parse(path.read_text())):
            if module.startswith(forbidden):
                problems.append(f"{path.relative_to(ROOT)} imports {module}")
    assert problems == []


VENUES = ("deribit", "deriv", "currencycom", "rails")


def test_the_market_engine_imports_no_venue() -> None:
    venue_modules = tuple(
        f"tradewire.{layer}.{venue}" for layer in ("protocol", "conformance") for venue in VENUES
    )
    problems = []
    for path in python_files("conformance/market"):
        tree = ast.parse(path.read_text())
        for module in imported_modules(tree):
            if module.startswith(venue_modules):
                problems.append(f"{path.relative_to(ROOT)} imports {module}")
        for node in ast.walk(tree):  # relative imports: from ..deribit import ...
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                top = (node.module or "").split(".")[0]
                names = {alias.name for alias in node.names}
                if top in VENUES or (not top and names & set(VENUES)):
                    problems.append(f"{path.relative_to(ROOT)} imports {'.' * node.level}{top}")
    assert problems == []


def test_every_package_is_listed_and_typed() -> None:
    """Folders with an ``__init__.py``, and data-only folders (the shipped transcripts),
    are all listed as packages; data-only ones also say which files they ship."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    package_data = config["tool"]["setuptools"]["package-data"]
    found = set()
    for folder in ("protocol", "bindings", "conformance"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            relative = path.parent.relative_to(ROOT).parts
            name = ".".join(("tradewire", *relative))
            found.add(name)
            if not (path.parent / "__init__.py").exists():  # a data-only folder
                assert any(path.match(glob) for glob in package_data.get(name, ())), path
        assert (ROOT / folder / "py.typed").exists()
    assert found == listed


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    start = readme.index("<!-- test-command -->")
    block = readme[start:].split("```", 2)[1]
    command = block.removeprefix("sh").strip()
    assert command.startswith("python3 -m venv")
    assert "README" in ci
    assert "test-command" in ci
