"""Packaging: a wheel built with the current setuptools (the build backend pip fetches for
``pip install .``) builds without a deprecation warning or a "package would be ignored"
warning, and ships every data file (the canonical transcripts) and ``py.typed``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARNINGS = ("deprecat", "would be ignored", "BuildBackendWarning", "is absent from")


def test_a_wheel_builds_without_warnings_and_ships_the_data(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-v"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    noisy = [
        line
        for line in output.splitlines()
        if any(w.lower() in line.lower() for w in WARNINGS) and "Location" not in line
    ]
    assert noisy == []
    [wheel] = tmp_path.glob("tradewire-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "conformance/deribit/transcripts").glob("*.jsonl")}
    assert shipped
    for name in shipped:
        assert f"tradewire/conformance/deribit/transcripts/{name}" in names
    for package in ("protocol", "conformance", "bindings"):
        assert f"tradewire/{package}/py.typed" in names
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "License-Expression: MIT" in metadata
