"""Story clustering: the hand-written average-linkage loop against scipy's linkage/fcluster, on the day
sizes a digest meets and beyond: same groups? how long?

    python -m eval.cluster_measure [--corpus ../shared/corpora/wikinews/articles.jsonl]

Vectors: synthetic days (n/3 events, each article its event's direction plus noise: cosine ~0.8 within an event, ~0 across; 384 dimensions), and with
--corpus, the real leads of the corpus's busiest days embedded by the local MiniLM.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from rag.summarise.stories import normalized

Clusterer = Callable[[Sequence[Sequence[float]], float], list[list[int]]]


def loop(vectors: Sequence[Sequence[float]], threshold: float) -> list[list[int]]:
    """The hand-written version this replaced (rag/summarise/stories.py before scipy), kept to compare."""
    n = len(vectors)
    if n == 0:
        return []
    v = np.array([normalized(np.asarray(x, dtype=np.float64)) for x in vectors])
    sim = v @ v.T
    groups: list[list[int]] = [[i] for i in range(n)]
    while len(groups) > 1:
        best, pair = -2.0, (0, 0)
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                s = float(sim[np.ix_(groups[a], groups[b])].mean())
                if s > best:
                    best, pair = s, (a, b)
        if best < threshold:
            break
        a, b = pair
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def synthetic(n: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    events = rng.normal(size=(max(1, n // 3), 384))
    return [list(events[rng.integers(len(events))] + rng.normal(scale=0.5, size=384)) for _ in range(n)]


def timed(f: Clusterer, vecs: list[list[float]], threshold: float) -> tuple[list[list[int]], float]:
    t0 = time.perf_counter()
    out = f(vecs, threshold)
    return out, time.perf_counter() - t0


def main() -> None:
    from rag.summarise.stories import cluster

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus")
    ap.add_argument("--threshold", type=float, default=0.7)
    args = ap.parse_args()
    days: list[tuple[str, list[list[float]]]] = []
    for n in (5, 12, 30, 60, 120, 250):
        for seed in range(3 if n <= 60 else 1):
            days.append((f"synthetic n={n} seed={seed}", synthetic(n, seed)))
    if args.corpus:
        from rag.config import load_settings
        from rag.models.embed import make_embedder

        with open(args.corpus, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f]
        busiest = Counter(r.get("date") for r in recs if r.get("date")).most_common(5)
        emb = make_embedder(load_settings())
        for d, _ in busiest:
            leads = [f"{r['title']}\n{r['text'][:900]}" for r in recs if r.get("date") == d]
            days.append((f"wikinews {d} n={len(leads)}", emb.embed(leads)))
    cluster(synthetic(3, 0), args.threshold)  # scipy's import is not the clustering's time
    for name, vecs in days:
        a, ta = timed(loop, vecs, args.threshold)
        b, tb = timed(cluster, vecs, args.threshold)
        print(json.dumps({"day": name, "same": a == b, "groups": len(b), "loop_s": round(ta, 4),
                          "scipy_s": round(tb, 4)}), flush=True)


if __name__ == "__main__":
    main()
