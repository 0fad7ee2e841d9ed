"""The rules the layers keep (docs/architecture.md): checked on the source, not assumed.

* imports point up only: protocol <- conformance <- bindings;
* the simulated market (``conformance/market``) imports no venue package: it takes
  instruments and error codes as data from a venue;
* protocol and conformance never touch a socket, a thread, an event loop, the clock or
  global randomness (a seeded ``random.Random(...)`` instance is allowed: it is injected);
* every package folder is listed in pyproject.toml and ships ``py.typed``;
* nothing points outside the repository or at an issue number, and every "spec N.N"
  can be followed: the file, or a package ``__init__`` / ``conftest`` above it, names the
  ``docs/venues/<venue>.md`` it means, and that file has section N.N.
"""

from __future__ import annotations

import ast
import re
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


# -- venues -------------------------------------------------------------------------------

PACKAGE_OF = {"protocol": "tradewire.protocol", "conformance": "tradewire.conformance"}
CORE_FOLDERS = {"transport", "session"}


def venues() -> list[str]:
    """Every venue package: a folder of protocol/ other than the core's."""
    return sorted(
        p.name
        for p in (ROOT / "protocol").iterdir()
        if (p / "__init__.py").exists() and p.name not in CORE_FOLDERS
    )


def resolved_imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path``, relative imports resolved."""
    relative = path.relative_to(ROOT)
    package = [PACKAGE_OF[relative.parts[0]], *relative.parts[1:-1]]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = ".".join(package).split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def venue_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "tradewire" and parts[2] in venues():
        return parts[2]
    return None


def test_there_is_at_least_one_venue() -> None:
    assert "deribit" in venues()


def test_the_core_imports_no_venue() -> None:
    core = [p for p in python_files("protocol") if p.parent == ROOT / "protocol"]
    for folder in CORE_FOLDERS:
        core += python_files(f"protocol/{folder}")
    conformance_core = [p for p in python_files("conformance") if p.parent == ROOT / "conformance"]
    problems = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in core + conformance_core
        for module in sorted(resolved_imports(path))
        if venue_of(module) is not None
    ]
    assert problems == []


def test_no_venue_imports_another() -> None:
    problems = []
    for venue in venues():
        files = python_files(f"protocol/{venue}")
        if (ROOT / "conformance" / venue).exists():
            files += python_files(f"conformance/{venue}")
        for path in files:
            for module in sorted(resolved_imports(path)):
                other = venue_of(module)
                if other is not None and other != venue:
                    problems.append(f"{path.relative_to(ROOT)} imports {module}")
    assert problems == []


def test_the_layer_check_sees_relative_imports() -> None:
    # The rule above must not be blind to "from ..deribit import x" style imports.
    path = ROOT / "protocol" / "deribit" / "_client.py"
    assert "tradewire.protocol.session" in resolved_imports(path)
    assert venue_of("tradewire.protocol.deribit._client") == "deribit"


TEXT_TREES = ("protocol", "conformance", "bindings", "benchmarks", "examples", "tests")
OUTSIDE = re.compile(
    "|".join(
        (
            r"\.\./" + "shared",  # the sibling folder of the repository
            "shared" + r"/specs",
            r"\b" + "issues?" + r"\s*#?\d+",  # an issue by number, with or without "#"
            "DESIGN" + r"\.md",
        )
    ),
    re.IGNORECASE,
)
CITATION = re.compile(r"\bspec (\d+(?:\.\d+)?(?:(?:, |-| and | to )\d+(?:\.\d+)?)*)")
DOC = re.compile(r"docs/venues/([a-z0-9_-]+)\.md")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)?)[. ]")
ITEM = re.compile(r"^(\d+)\. ")


def _section_numbers(doc: Path) -> set[str]:
    """Headings (``### 5.1``) and the numbered items of a section (item 5 of ``## 9.``
    is 9.5)."""
    found: set[str] = set()
    current = ""
    for line in doc.read_text(encoding="utf-8").splitlines():
        heading = HEADING.match(line)
        if heading:
            found.add(heading.group(1))
            current = heading.group(1)
            continue
        item = ITEM.match(line)
        if item and current and "." not in current:
            found.add(f"{current}.{item.group(1)}")
    return found


def text_files() -> list[Path]:
    found = []
    for tree in TEXT_TREES:
        for path in (ROOT / tree).rglob("*"):
            suffix_ok = path.suffix in (".py", ".md", ".toml", ".txt", ".cfg")
            if path.is_file() and suffix_ok and "__pycache__" not in path.parts:
                found.append(path)
    return sorted(found)


def test_nothing_points_outside_the_repository_or_at_an_issue() -> None:
    problems = []
    for path in text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = OUTSIDE.search(line)
            if match:
                problems.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r}")
    assert problems == []


def _cited_doc(path: Path) -> Path | None:
    """The docs file ``path`` names, or the nearest package or conftest above it names."""
    folder = path.parent
    candidates = [path]
    while folder != ROOT:
        candidates += [folder / "__init__.py", folder / "conftest.py"]
        folder = folder.parent
    for candidate in candidates:
        if candidate.exists():
            named = DOC.search(ast.get_docstring(ast.parse(candidate.read_text())) or "")
            if candidate == path:
                named = DOC.search(candidate.read_text()) or named
            if named:
                return ROOT / "docs" / "venues" / f"{named.group(1)}.md"
    return None


def _sections(numbers: str) -> list[str]:
    return re.split(r", |-| and | to ", numbers)


def test_every_spec_citation_can_be_followed() -> None:
    problems = []
    headings: dict[Path, set[str]] = {}
    for path in text_files():
        if path.suffix != ".py":
            continue
        cited = [m.group(1) for m in CITATION.finditer(path.read_text(encoding="utf-8"))]
        if not cited:
            continue
        doc = _cited_doc(path)
        if doc is None or not doc.exists():
            problems.append(f"{path.relative_to(ROOT)}: cites 'spec' but names no docs file")
            continue
        if doc not in headings:
            headings[doc] = _section_numbers(doc)
        for numbers in cited:
            for section in _sections(numbers):
                if section not in headings[doc]:
                    problems.append(f"{path.relative_to(ROOT)}: spec {section} not in {doc.name}")
    assert problems == []
