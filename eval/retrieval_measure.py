"""Retrieval alone on the gold question sets: hit@k and MRR per split, without the LLM.

    python -m eval.retrieval_measure --sets seed wikinews wikinews_new --modes hybrid lexical [--words prefix]

Runs `rag.eval.harness.run_eval` -- the same index, the same ask() and the same retrieval metrics as
`rag eval` -- with a model that answers NOT IN ARTICLES, so only retrieval is scored (in seconds, not an
hour). For changes to retrieval (the BM25 tokenizer, fusion weights) decided on the tune split.
`evidence` is the share of an item's gold passages that the evidence sentences put in the prompt overlap
(rag.answering.evidence.select). `--words prefix` compares words by their first five letters, as rag.cite did
before Snowball stems. It measured that evidence selection does better on prefixes (tune evidence 0.965
against 0.958 with stems), so evidence selection now always ranks by them (rag.cite.prefix_words); the
option still switches the verifier's and the stories' word keys (rag.cite.content_words).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import rag.answering.answer
import rag.cite
from rag.config import load_settings
from rag.eval.harness import ItemResult, eval_index, find_set, run_eval
from rag.eval.metrics import Hit, _overlaps
from rag.eval.schema import load_gold, locate_all
from rag.models.embed import make_embedder
from rag.models.llm import Completion
from rag.store import Index
from rag.types import Passage


def _prefix(w: str) -> str:
    """rag.cite's word key before Snowball stems."""
    w = w.lower().strip("'’-")
    if w.replace(",", "").replace(".", "").isdigit():
        return w.replace(",", "").rstrip(".")
    return w[:5] if len(w) > 5 else w.rstrip("s") or w


class Refusing:
    """A ChatModel that never answers: the eval then scores retrieval only."""

    def complete(self, system: str, user: str, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        return Completion("NOT IN ARTICLES", 0, 0, 0.0)


def gold_spans(name: str, settings: Any, embedder: Any) -> dict[str, list[Hit]]:
    """Item id -> its gold passages located in the set's index (as run_eval locates them)."""
    gs = find_set(name)
    items = load_gold(gs.gold)
    with eval_index(gs, settings, embedder) as s, Index.open(s) as index:
        ids = sorted({p.article_id for it in items for p in it.passages})
        articles = {i: index.article(i) for i in ids if index.has_article(i)}
        located = locate_all(gs.gold, items, articles)
    return {k: [Hit(x.article_id, x.start, x.end) for x in v] for k, v in located.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["seed", "wikinews", "wikinews_new"])
    ap.add_argument("--modes", nargs="+", default=["hybrid", "lexical"])
    ap.add_argument("--words", choices=["stems", "prefix"], default="stems")
    args = ap.parse_args()
    if args.words == "prefix":
        rag.cite._stem = _prefix
    chosen: list[list[Passage]] = []
    select = rag.answering.answer.select

    def recording(*a: object, **k: object) -> list[Passage]:
        chosen.append(select(*a, **k))  # type: ignore[arg-type]
        return chosen[-1]

    rag.answering.answer.select = recording  # type: ignore[assignment]
    settings = load_settings()
    embedder = make_embedder(settings)
    rows = []
    for name in args.sets:
        for mode in args.modes:
            s = settings.model_copy(update={"retrieval": mode})
            t0 = time.monotonic()
            evidence: dict[str, float] = {}
            spans = gold_spans(name, s, embedder)

            def progress(n: int, total: int, r: ItemResult, spans: dict[str, list[Hit]] = spans,
                         evidence: dict[str, float] = evidence) -> None:
                got = [Hit(p.article_id, p.start, p.end) for p in chosen[-1]] if chosen else []
                chosen.clear()
                gold = spans.get(r.id, [])
                if gold:
                    evidence[r.id] = sum(any(_overlaps(h, g) for h in got) for g in gold) / len(gold)

            report = run_eval(name, s, embedder=embedder, llm=Refusing(), digests=False, progress=progress)
            for split in report.splits():
                sc = report.scores(split)
                n = sum(1 for r in report.items if r.split == split and r.scores["hit_at_k"].value is not None)
                ev = [evidence[r.id] for r in report.items if r.split == split and r.id in evidence]
                rows.append({"set": name, "mode": mode, "words": args.words, "split": split, "n": n,
                             "hit_at_k": round(sc["hit_at_k"] or 0, 4), "mrr": round(sc["mrr"] or 0, 4),
                             "evidence": round(sum(ev) / len(ev), 4) if ev else None})
                print(json.dumps({**rows[-1], "seconds": round(time.monotonic() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
