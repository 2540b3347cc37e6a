"""The README stays true: every setting is in its settings table, every command in its command list."""

from __future__ import annotations

import re
from pathlib import Path

from rag.cli import app
from rag.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    rows = set(re.findall(r"^\| `(RAG_\w+)` \|", README, flags=re.M))
    assert {f"RAG_{n.upper()}" for n in Settings.model_fields} <= rows


def test_every_command_is_in_the_readme() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    missing = [n for n in names if not re.search(rf"\brag {re.escape(n.rstrip('_'))}\b", README)]
    assert not missing, missing
