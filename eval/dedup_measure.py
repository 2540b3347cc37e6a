"""Measure the near-duplicate rule (rag.ingest.dedup) on a JSONL corpus: false positives among its real
article pairs, and recall on synthetic wire copies of its articles.

    python -m eval.dedup_measure --corpus ../shared/corpora/wikinews/articles.jsonl

False positives: every pair of articles sharing at least a fifth of the shorter text's shingles (a shingle
found in more than 60 articles is boilerplate and builds no pair) is judged by the old rule (Jaccard >=
THRESHOLD) and the current one (copy_similarity); the pairs either calls a copy are printed, to be read.
Recall: each article becomes four wire copies -- a credit line and "(wire copy)" label; a dateline, byline
and footer; the last 30% of sentences dropped under a dateline; the last 40% dropped -- and each copy goes
through what ingest does (shared LSH band, estimated similarity >= CANDIDATE, then the exact rule).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from rag.ingest import dedup

OLD_CANDIDATE = 0.75  # the estimated-similarity cut before containment was added


def variants(title: str, text: str) -> dict[str, str]:
    sents = re.split(r"(?<=[.!?])\s+", text)
    keep = lambda share: " ".join(sents[: max(1, round(len(sents) * share))])  # noqa: E731
    return {
        "credit line": f"{title} (wire copy)\n{text}\n\nReporting by Jane Doe; editing by Mark Poe.",
        "dateline, byline, footer": f"By Wire Staff | Example Wire\nLONDON (Example Wire) - {text}\n\n"
                                    "This story was distributed by Example Wire. All rights reserved.",
        "last 30% dropped": f"LONDON (Example Wire) - {keep(0.7)}",
        "last 40% dropped": f"LONDON (Example Wire) - {keep(0.6)}",
    }


def found(original: str, copy: str, new_rule: bool) -> bool:
    a, b = dedup.signature(original), dedup.signature(copy)
    if not set(dedup.band_keys(a)) & set(dedup.band_keys(b)):
        return False
    if dedup.similarity(a, b) < (dedup.CANDIDATE if new_rule else OLD_CANDIDATE):
        return False
    return dedup.is_copy(original, copy) if new_rule else dedup.jaccard(original, copy) >= dedup.THRESHOLD


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--every", type=int, default=1, help="Synthetic copies of every n-th article only.")
    args = ap.parse_args()
    recs = [json.loads(x) for x in args.corpus.read_text(encoding="utf-8").splitlines() if x.strip()]
    texts = [r["text"] for r in recs]
    sets = [dedup.shingles(t) for t in texts]
    by_shingle: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            by_shingle[sh].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in by_shingle.values():
        if 2 <= len(docs) <= 60:
            shared.update(itertools.combinations(docs, 2))
    pairs = [(a, b) for (a, b), n in shared.items() if n >= 0.2 * min(len(sets[a]), len(sets[b]))]
    print(f"{len(recs)} articles; {len(pairs)} pairs share at least a fifth of the shorter text's shingles")
    old = [(a, b) for a, b in pairs if dedup.jaccard(texts[a], texts[b]) >= dedup.THRESHOLD]
    new = [(a, b) for a, b in pairs if dedup.is_copy(texts[a], texts[b])]
    for name, got in (("old rule (Jaccard >= 0.88)", old), ("current rule (copy_similarity)", new)):
        print(f"{name}: {len(got)} pairs called copies")
        for a, b in got:
            print(f"   {recs[a]['id']} / {recs[b]['id']}: Jaccard {dedup.jaccard(texts[a], texts[b]):.3f}, "
                  f"similarity {dedup.copy_similarity(texts[a], texts[b])}")
    judged = []
    for a, b in pairs:
        short, long = sorted((len(sets[a]), len(sets[b])))
        c = len(sets[a] & sets[b]) / short
        judged.append((c, short, long, recs[a]["id"], recs[b]["id"], (a, b) in set(new)))
    print("highest containment of the shorter text among pairs not called copies (containment, shingles of the"
          " shorter and the longer, ids):")
    for c, short, long, i, j, _ in sorted((x for x in judged if not x[5]), reverse=True)[:5]:
        print(f"   {c:.3f} {short} {long} {i} / {j}")
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in recs[:: args.every]:
        long_enough = len(dedup.shingles(r["text"])) >= dedup.MIN_CONTAINED
        for kind, copy in variants(r.get("title") or "", r["text"]).items():
            t = tally[f"{kind} ({'>=' if long_enough else '<'}{dedup.MIN_CONTAINED} shingles)"]
            t[0] += 1
            t[1] += found(r["text"], copy, new_rule=False)
            t[2] += found(r["text"], copy, new_rule=True)
    print("synthetic wire copies found (old rule / current rule):")
    for kind, (n, o, c) in sorted(tally.items()):
        print(f"   {kind}: {n} copies, {o / n:.3f} / {c / n:.3f}")


if __name__ == "__main__":
    main()
