"""Gold files as a user writes them: read exactly as JSON Lines (small, no pipeline run)."""

from __future__ import annotations

import json
from pathlib import Path

from rag.eval.schema import load_gold


def test_gold_line_separators_inside_strings_do_not_split_items(tmp_path: Path) -> None:
    """U+2028/U+2029/U+0085 inside a JSON string are not line ends: the item loads whole."""
    item = {"id": "a", "kind": "unanswerable", "question": "Who won?\u2028Which year?\u0085", "facts": []}
    p = tmp_path / "gold.jsonl"
    p.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    [got] = load_gold(p)
    assert got.question == item["question"]
