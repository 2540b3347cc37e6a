"""Token budgets: chars/4 against the local model's own tokenizer (llama.cpp's /tokenize).

    python -m eval.token_measure [--corpus ../shared/corpora/wikinews/articles.jsonl] [--n 300]

One random sentence from each of N random Wikinews articles (evidence-sized text), counted both ways.
Measured 2026-11-29: 4.8 characters a token (median 4.91, p5 3.45, p95 6.0); chars/4 estimates 1.2x the
real count, so every budget (rag.answering.evidence, rag.summarise.stories, rag.summarise.brief) errs short, never over the context.
chars/4 is kept: a remote OpenAI-compatible model has no tokenizer to ask, and counting with the local one
would cost a request per sentence for a prompt that is never too long.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path

import httpx

from rag.chunk import sentences
from rag.config import load_settings
from rag.models.llm import LocalServer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared/corpora/wikinews/articles.jsonl")
    ap.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    rng = random.Random(7)
    with a.corpus.open(encoding="utf-8") as f:
        arts = [json.loads(line) for line in f]
    texts = []
    for art in rng.sample(arts, a.n):
        if spans := sentences(art["text"]):
            s, e = rng.choice(spans)
            texts.append(art["text"][s:e])
    base = LocalServer(load_settings()).base_url.removesuffix("/v1")
    ratios, estimated, real = [], 0.0, 0
    for t in texts:
        n = len(httpx.post(base + "/tokenize", json={"content": t}).json()["tokens"])
        if n:
            ratios.append(len(t) / n)
            estimated += len(t) / 4
            real += n
    q = statistics.quantiles(ratios, n=20)
    print(f"{len(ratios)} sentences: chars a token mean {statistics.mean(ratios):.2f}, median "
          f"{statistics.median(ratios):.2f}, p5 {q[0]:.2f}, p95 {q[-1]:.2f}; chars/4 estimates {estimated:.0f} "
          f"tokens for {real} real ({estimated / real:.3f}x)")


if __name__ == "__main__":
    main()
