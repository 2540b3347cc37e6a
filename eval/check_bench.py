"""Benchmark `rag check` over N labelled claims, as a reporter's draft of one statement a line.

    python eval/check_bench.py [--n 100] [--seed 14] [--others 250] [--corpus PATH] [--out eval/bench/check.json]

Draws N claims at random from eval/gold/claims.jsonl (seeded), builds a fresh index of their articles and
`--others` more drawn from the corpus (so retrieval has to find the right evidence), then times
`rag check --lines --json` over them in a new process (the embedded model, with the judgement, nothing cached),
and reports seconds, the peak memory of the child processes (the larger of `rag ingest` and `rag check`), and how
the verdicts agree with the claims' labels
(supported kept, unsupported passed). Timing is reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "wikinews" / "articles.jsonl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--others", type=int, default=250)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=HERE / "bench" / "check.json")
    a = ap.parse_args(argv)
    if not a.corpus.exists():
        print(f"check_bench: no corpus at {a.corpus}: pass --corpus PATH", file=sys.stderr)
        return 1
    claims = [json.loads(x) for x in (HERE / "gold" / "claims.jsonl").read_text(encoding="utf-8").splitlines()]
    rnd = random.Random(a.seed)
    picked = rnd.sample(claims, a.n)
    articles = [json.loads(x) for x in a.corpus.read_text(encoding="utf-8").splitlines()]
    want = {c["article_id"] for c in picked}
    rest = [x for x in articles if x["id"] not in want]
    chosen = [x for x in articles if x["id"] in want] + rnd.sample(rest, a.others)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RAG_KEEP_ALIVE": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        corpus, text, index = Path(tmp) / "articles.jsonl", Path(tmp) / "claims.txt", Path(tmp) / "index"
        corpus.write_text("".join(json.dumps(x) + "\n" for x in chosen), encoding="utf-8")
        text.write_text("".join(c["claim"].replace("\n", " ") + "\n" for c in picked), encoding="utf-8")
        subprocess.run(["rag", "ingest", str(corpus), "--index", str(index)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        run = subprocess.run(["rag", "check", "--lines", "--file", str(text), "--index", str(index), "--json"],
                             env=env, capture_output=True, text=True)
        seconds = time.monotonic() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    verdicts = json.loads(run.stdout)["sentences"]
    kept = sum(v["supported"] for v, c in zip(verdicts, picked, strict=True) if c["label"] == "supported")
    passed = sum(v["supported"] for v, c in zip(verdicts, picked, strict=True) if c["label"] != "supported")
    n_sup = sum(c["label"] == "supported" for c in picked)
    out = {"claims": a.n, "seed": a.seed, "articles": len(chosen), "seconds": round(seconds, 1),
           "peak_rss_mb": round(peak_mb), "supported_kept": f"{kept}/{n_sup}",
           "unsupported_passed": f"{passed}/{a.n - n_sup}"}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
