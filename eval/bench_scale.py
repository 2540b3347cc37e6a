"""The store at scale, by simulation where this machine cannot embed; and the first query after an ingest.

    python -m eval.bench_scale --first-query 1000 4759 [--out eval/bench]
    python -m eval.bench_scale --scale 100000 1000000 [--deployments embedded server] [--out eval/bench] [--keep DIR]

`--first-query N...`: an index of N Wikinews articles (../shared/corpora), one retrieval (the state a reader
had), then an ingest of the next 200 articles; a new reader's first hybrid retrieval is timed against the
next ones (median). Vectors come from a hashing embedder (bag of hashed words, 384 dims, no model), so the
ingest takes seconds and a query's time is the store's and the lexical index's, not ONNX's.

`--scale SIZES...`: synthetic articles (sentences of words drawn from the Wikinews corpus's word
frequencies, dated over 2000-2025, chunked by rag.chunk as usual) with synthetic vectors (random unit
vectors, 384 dims) written through `Index.write_articles` -- the embedder skipped -- up to each size in
chunks, then measured there: store write throughput, disk and memory per chunk, retrieval p50/p95 (dense,
lexical, hybrid, hybrid within a one-year date filter) over 50 questions. Deployments: `embedded` (SQLite
+ embedded Chroma, in this process) and `server` (PostgreSQL + a Chroma server, both started here on
127.0.0.1 from Debian's PostgreSQL 15 and chromadb's `chroma run`). The real embedder's chunks/s is
measured once and used to extrapolate what embedding the same corpus would cost.

Random vectors have no cluster structure: HNSW search over them is, if anything, slower than over real
embeddings. Writes the results as JSON and Markdown (scale.json/.md, first_query.json/.md) under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "wikinews" / "articles.jsonl"
DIM = 384


class HashEmbedder:
    """Bag of hashed words -> a unit vector: text-dependent, no model, microseconds."""

    name = "bench-hash-384"

    def embed(self, texts: Any) -> list[list[float]]:
        out = []
        for t in texts:
            v = np.zeros(DIM, dtype=np.float32)
            for w in re.findall(r"\w+", t.lower()):
                v[zlib.crc32(w.encode()) % DIM] += 1.0
            n = float(np.linalg.norm(v)) or 1.0
            out.append((v / n).tolist())
        return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _rss(pid: int | str = "self") -> int:
    """Resident memory of a process in bytes (0 if gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """A process and its descendants (the postmaster's backends)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        todo += [int(k) for k in kids]
    return out


# ---- first query after an ingest ----------------------------------------------------------------------
def first_query(corpus: Path, sizes: list[int], new: int, work: Path) -> list[dict[str, Any]]:
    from rag.answering.retrieve import Retriever
    from rag.config import Settings
    from rag.ingest import ingest
    from rag.store import Index

    lines = corpus.read_text(encoding="utf-8").splitlines()
    gold = [json.loads(x)["question"] for x in (ROOT / "eval" / "gold" / "wikinews.jsonl").read_text().splitlines()]
    emb = HashEmbedder()
    rows = []
    for n in sizes:
        d = work / f"first-{n}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        (d / "base.jsonl").write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
        (d / "new.jsonl").write_text("\n".join(lines[n : n + new]) + "\n", encoding="utf-8")
        s = Settings(index_dir=d / "index")
        ingest([d / "base.jsonl"], s, embedder=emb)
        with Index.open(s) as ix:
            Retriever(ix, emb, s).search(gold[0], 5)  # what a reader did before the update
        t = time.perf_counter()
        rep = ingest([d / "new.jsonl"], s, embedder=emb)
        ingest_s = time.perf_counter() - t
        with Index.open(s) as ix:
            r = Retriever(ix, emb, s)
            t = time.perf_counter()
            r.search(gold[1], 5)
            first = time.perf_counter() - t
            nxt = []
            for q in gold[2:22]:
                t = time.perf_counter()
                r.search(q, 5)
                nxt.append(time.perf_counter() - t)
            articles, chunks = ix.counts()
        row = {"articles_before": n, "ingested": rep.added, "articles": articles, "chunks": chunks,
               "ingest_seconds": round(ingest_s, 2), "first_s": round(first, 4),
               "next_median_s": round(statistics.median(nxt), 4), "next_max_s": round(max(nxt), 4)}
        row["within_1.25x_plus_0.1s"] = first <= 1.25 * row["next_median_s"] + 0.1
        print(json.dumps(row), flush=True)
        rows.append(row)
        shutil.rmtree(d, ignore_errors=True)
    return rows


# ---- the scale simulation ------------------------------------------------------------------------------
class Synth:
    """Synthetic news articles with Wikinews's word frequencies."""

    def __init__(self, corpus: Path, seed: int = 0) -> None:
        counts: Counter[str] = Counter()
        with corpus.open(encoding="utf-8") as f:
            for line in f:
                counts.update(re.findall(r"[A-Za-z][A-Za-z'-]*|\d+", json.loads(line)["text"]))
        words = [w for w, _ in counts.most_common(60000)]
        freq = np.array([counts[w] for w in words], dtype=np.float64)
        self.words = words
        self.cdf = np.cumsum(freq / freq.sum())
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def _draw(self, k: int) -> list[str]:
        idx = np.minimum(np.searchsorted(self.cdf, self.rng.random(k)), len(self.words) - 1)
        return [self.words[i] for i in idx]

    def sentence(self, k: int) -> str:
        s = " ".join(self._draw(k))
        return s[:1].upper() + s[1:] + "."

    def article(self) -> Any:
        """~2,000 characters in 3 paragraphs of 4-7 sentences (2-3 chunks of up to 900 characters)."""
        from rag.types import Article

        self.n += 1
        day = np.datetime64("2000-01-01") + int(self.rng.integers(0, 26 * 365))
        lens = [[int(x) for x in self.rng.integers(12, 28, size=int(self.rng.integers(4, 8)))] for _ in range(3)]
        words = iter(self._draw(sum(map(sum, lens)) + 8))
        paras = []
        for para in lens:
            sents = []
            for k in para:
                s = " ".join(next(words) for _ in range(k))
                sents.append(s[:1].upper() + s[1:] + ".")
            paras.append(" ".join(sents))
        title = " ".join(next(words) for _ in range(8))
        return Article(id=f"syn-{self.n}", title=title[:1].upper() + title[1:], text="\n\n".join(paras),
                       date=str(day), source="synthetic", date_source="metadata")

    def question(self) -> str:
        """Six words of middling frequency (ranks 200-20,000), as a question names things."""
        return " ".join(self.words[int(i)] for i in self.rng.integers(200, 20000, size=6)) + "?"


def embedder_rate(n: int = 128) -> float:
    """The real (default) embedder's chunks per second on chunk-sized texts."""
    from rag.config import Settings
    from rag.models.embed import make_embedder

    syn = Synth(CORPUS, seed=1)
    texts = [" ".join(syn.sentence(20) for _ in range(7))[:900] for _ in range(n)]
    emb = make_embedder(Settings())
    emb.embed(texts[:8])
    t = time.perf_counter()
    emb.embed(texts)
    return n / (time.perf_counter() - t)


def scale(deployment: str, sizes: list[int], work: Path, batch: int = 1000,
          on_row: Any = None, keep: Path | None = None) -> list[dict[str, Any]]:
    from rag.answering.retrieve import DateRange, Retriever
    from rag.chunk import chunk_article
    from rag.config import Settings
    from rag.ingest import content_hash
    from rag.store import Index

    servers: dict[str, Any] = {}
    d = (keep or work) / f"scale-{deployment}"
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True)
    try:
        if deployment == "server":
            from tests.servers import start_chroma, start_postgres

            servers["chroma"], chroma_url = start_chroma(d / "chroma-server")
            servers["pg"], pg_url, servers["pg_root"] = start_postgres()
            s = Settings(index_dir=d / "index", chroma_url=chroma_url, database_url=pg_url)
        else:
            s = Settings(index_dir=d / "index")
        syn = Synth(CORPUS)
        emb = HashEmbedder()
        rng = np.random.default_rng(7)
        rows = []
        written_now, write_s = 0, 0.0
        ix = Index.open(s, create=True)
        ix.check_embedder(emb.name, write=True)
        syn.n, written = ix.counts()  # a kept index is grown from where it is (its write rate is this run's)
        syn.rng = np.random.default_rng(syn.n)  # new articles, not the first run's again
        for target in sizes:
            ix.lock()
            while written < target:
                arts = [syn.article() for _ in range(batch)]
                chunks = [c for a in arts for c in chunk_article(a, s.chunk_chars)]
                vecs = rng.standard_normal((len(chunks), DIM), dtype=np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                t = time.perf_counter()
                ix.write_articles([(a, content_hash(a)) for a in arts], chunks, vecs.tolist())
                write_s += time.perf_counter() - t
                written += len(chunks)
                written_now += len(chunks)
                print(f"{deployment}: {written} chunks, {len(chunks) / (time.perf_counter() - t):.0f} chunks/s",
                      flush=True)
            ix.unlock()
            articles, chunks_n = ix.counts()
            r = Retriever(ix, emb, s)
            qs = [syn.question() for _ in range(53)]
            lat: dict[str, list[float]] = {}
            for mode, dates in (("dense", None), ("lexical", None), ("hybrid", None),
                                ("hybrid_dated", DateRange("2012-01-01", "2012-12-31"))):
                for i, q in enumerate(qs):
                    t = time.perf_counter()
                    r.search(q, s.top_k, dates=dates, mode=mode.split("_")[0])
                    if i >= 3:  # the first three warm caches
                        lat.setdefault(mode, []).append(time.perf_counter() - t)
            disk = _du(d / "index")
            mem = _rss()
            if deployment == "server":
                disk += _du(d / "chroma-server")
                with Index.open(s) as probe:
                    disk += int(probe.db.execute("SELECT pg_database_size(current_database())").fetchone()[0])
                mem += _rss(servers["chroma"].pid) + sum(_rss(p) for p in _tree(servers["pg"].pid))
            row = {"deployment": deployment, "chunks": chunks_n, "articles": articles,
                   "write_chunks_per_s": round(written_now / write_s) if write_s else None,
                   "disk_bytes_per_chunk": round(disk / chunks_n), "memory_bytes_per_chunk": round(mem / chunks_n),
                   "disk_gb": round(disk / 1e9, 2), "rss_gb": round(mem / 1e9, 2)}
            for mode, xs in lat.items():
                row[f"{mode}_p50_ms"] = round(_pct(xs, 0.5) * 1000, 1)
                row[f"{mode}_p95_ms"] = round(_pct(xs, 0.95) * 1000, 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
            if on_row:
                on_row(row)  # kept as it comes: a run stopped later still leaves its rows
        ix.close()
        return rows
    finally:
        if "chroma" in servers:
            from tests.servers import stop_chroma

            stop_chroma(servers["chroma"])
        if "pg" in servers:
            from tests.servers import stop_postgres

            stop_postgres(servers["pg"], servers["pg_root"])
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def table(rows: list[dict[str, Any]], rate: float | None) -> str:
    head = ("| deployment | chunks | store writes | disk / chunk | memory / chunk | dense p50/p95 | lexical p50/p95 "
            "| hybrid p50/p95 | hybrid, 1-year filter p50/p95 |\n|---|---|---|---|---|---|---|---|---|\n")
    body = ""
    for r in rows:
        name = "SQLite + embedded Chroma" if r["deployment"] == "embedded" else "PostgreSQL + Chroma server"
        writes = f"{r['write_chunks_per_s']:,} chunks/s" if r["write_chunks_per_s"] else "(kept index)"
        body += (f"| {name} | {r['chunks']:,} | {writes} | {r['disk_bytes_per_chunk'] / 1024:.1f} KB "
                 f"| {r['memory_bytes_per_chunk'] / 1024:.1f} KB | "
                 + " | ".join(f"{r[f'{m}_p50_ms']} / {r[f'{m}_p95_ms']} ms" for m in ("dense", "lexical", "hybrid", "hybrid_dated"))
                 + " |\n")
    if rate:
        body += (f"\nThe embedder skipped here runs at {rate:.0f} chunks/s on this machine: embedding 100k chunks would "
                 f"take {1e5 / rate / 3600:.1f} h, 1M chunks {1e6 / rate / 3600:.1f} h.\n")
    return head + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first-query", type=int, nargs="+", metavar="N", help="index sizes (articles) before the ingest")
    ap.add_argument("--new", type=int, default=200, help="articles ingested before the first query")
    ap.add_argument("--scale", type=int, nargs="+", metavar="CHUNKS", help="sizes in chunks, ascending")
    ap.add_argument("--deployments", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "bench")
    ap.add_argument("--tag", default="", help="suffix of the output files (e.g. -before)")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="with --scale: build the indexes under DIR and keep them; a later run with the same DIR "
                         "grows them from their size (or only measures, when they are already that large)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="rag-scale-"))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        if args.first_query:
            rows = first_query(CORPUS, args.first_query, args.new, work)
            (args.out / f"first_query{args.tag}.json").write_text(json.dumps(rows, indent=1) + "\n")
        if args.scale:
            rate = embedder_rate()
            rows: list[dict[str, Any]] = []

            def keep(row: dict[str, Any]) -> None:
                rows.append(row)
                (args.out / f"scale{args.tag}.json").write_text(
                    json.dumps({"embedder_chunks_per_s": round(rate, 1), "rows": rows}, indent=1) + "\n")

            for dep in args.deployments:
                scale(dep, sorted(args.scale), work, on_row=keep, keep=args.keep)
            (args.out / f"scale{args.tag}.md").write_text(table(rows, rate))
            print(table(rows, rate))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
