"""Retrieval alone on the gold question sets: hit@k and MRR per split, without the LLM.

    python -m eval.retrieval_measure --sets seed wikinews wikinews_new --modes hybrid lexical

Runs `rag.eval.harness.run_eval` -- the same index, the same ask() and the same retrieval metrics as
`rag eval` -- with a model that answers NOT IN ARTICLES, so only retrieval is scored (in seconds, not an
hour). For changes to retrieval (the BM25 tokenizer, fusion weights) decided on the tune split.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from rag.config import load_settings
from rag.embed import make_embedder
from rag.eval.harness import run_eval
from rag.llm import Completion


class Refusing:
    """A ChatModel that never answers: the eval then scores retrieval only."""

    def complete(self, system: str, user: str, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        return Completion("NOT IN ARTICLES", 0, 0, 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["seed", "wikinews", "wikinews_new"])
    ap.add_argument("--modes", nargs="+", default=["hybrid", "lexical"])
    args = ap.parse_args()
    settings = load_settings()
    embedder = make_embedder(settings)
    rows = []
    for name in args.sets:
        for mode in args.modes:
            s = settings.model_copy(update={"retrieval": mode})
            t0 = time.monotonic()
            report = run_eval(name, s, embedder=embedder, llm=Refusing(), digests=False)
            for split in report.splits():
                sc = report.scores(split)
                n = sum(1 for r in report.items if r.split == split and r.scores["hit_at_k"].value is not None)
                rows.append({"set": name, "mode": mode, "split": split, "n": n,
                             "hit_at_k": round(sc["hit_at_k"] or 0, 4), "mrr": round(sc["mrr"] or 0, 4)})
                print(json.dumps({**rows[-1], "seconds": round(time.monotonic() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
