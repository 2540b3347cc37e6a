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


def test_own_gold_file_is_scored_without_the_eval_config(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A plain `pip install` has no eval/thresholds.toml: `rag eval --gold FILE --corpus DIR` still scores
    the user's own gold set, with no thresholds to pass or fail."""
    from typer.testing import CliRunner

    import rag.eval.harness
    from rag.cli import app
    from tests.conftest import MODEL_DIR, SEEDS, FakeChat

    monkeypatch.setattr(rag.eval.harness, "CONFIG", tmp_path / "no-checkout" / "eval" / "thresholds.toml")
    monkeypatch.setattr(rag.eval.harness, "LLM", lambda settings: FakeChat())
    monkeypatch.setenv("RAG_MODEL_DIR", str(MODEL_DIR))
    monkeypatch.setenv("RAG_EVAL_CACHE_DIR", str(tmp_path / "cache"))
    seed = next(SEEDS.glob("*.txt"))
    item = {"id": "a", "kind": "fact", "question": "Where did American and Ukrainian representatives meet?",
            "facts": [["Geneva"]],
            "passages": [{"article_id": seed.stem, "text": "American and Ukrainian representatives in Geneva"}]}
    gold = tmp_path / "mine.jsonl"
    gold.write_text(json.dumps(item) + "\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--corpus", str(SEEDS), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["set"] == "mine" and out["thresholds"] == {} and out["passed"] is True
    assert out["scores"]["hit_at_k"] == 1.0 and len(out["items"]) == 1
