"""A non-editable install (`pip install .`, a wheel) carries every subpackage, the embedder's tokenizer and
the prompt templates: the wheel is built from this checkout and its file list checked."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_module_asset_and_prompt(tmp_path: Path) -> None:
    pytest.importorskip("setuptools", minversion="70.1")  # the dev extra installs it (bdist_wheel built in)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("rag_news-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= names, f"modules missing from the wheel (add their package to pyproject.toml): {sorted(modules - names)}"
    assets = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag" / "assets").iterdir()}
    assert assets <= names
    prompts = {f"rag/templates/{p.name}" for p in (ROOT / "prompts").glob("*.md")}
    assert prompts and prompts <= names
    for p in (ROOT / "prompts").glob("*.md"):  # the same bytes as the files edited in prompts/
        assert zipfile.ZipFile(wheel).read(f"rag/templates/{p.name}") == p.read_bytes()
