"""Benchmark suite: our speed against the physical floor and against plain llama-index, in one run.

    python -m eval.bench [--quick] [--limit N] [--out eval/bench]

Writes eval/bench/latest.json and latest.md. Every phase runs in its own subprocess, so each peak RSS
is its own. Ratios measured side by side in one run are what to read: the machine is shared and
absolute seconds drift. Needs ../shared/corpora/wikinews/articles.jsonl.

Phases: ingest (ours end to end; the floor = the same chunks through the embedder alone; the peer =
plain llama-index `VectorStoreIndex.from_documents` over a `ChromaVectorStore` with default ingestion
settings and the same embedder), re-ingest unchanged, one changed article, retrieval latency at the
corpus size and replicated to ~50k chunks (dense vs hybrid), `ask` end to end with the embedded LLM
split into retrieval / prompt processing / generation (model loaded once, as in one session), `rag ask`
from the shell (a new process per question, model load included), and digests per day cold and cached.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "wikinews" / "articles.jsonl"


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))], 4) if xs else float("nan")


def _settings(index_dir: str) -> Any:
    from rag.config import Settings

    return Settings(index_dir=Path(index_dir))


# ---- phases (each runs in a child process: python -m eval.bench --phase NAME ARGS...) ------------
def phase_ours(subset: str, index_dir: str) -> dict[str, Any]:
    from rag.ingest import ingest
    from rag.models.embed import make_embedder

    t0 = time.perf_counter()
    s = _settings(index_dir)
    emb = make_embedder(s)
    embed_seconds = 0.0
    inner = emb.embed

    def timed(texts: Any) -> Any:
        nonlocal embed_seconds
        t = time.perf_counter()
        out = inner(texts)
        embed_seconds += time.perf_counter() - t
        return out

    emb.embed = timed  # type: ignore[method-assign]
    r = ingest([subset], s, embedder=emb)
    dt = time.perf_counter() - t0
    return {"seconds": round(dt, 2), "embed_seconds": round(embed_seconds, 2), "articles": r.articles,
            "chunks": r.chunks, "added": r.added, "updated": r.updated, "unchanged": r.unchanged,
            "rss_mb": _rss_mb()}


def phase_floor(subset: str, every: str = "1") -> dict[str, Any]:
    """The same chunks (same reader, same chunker, same embedded text) through the embedder alone.

    every=N embeds every Nth chunk in corpus order (an even sample of lengths and articles) and scales
    the embedding time by N (the model load is counted once): the embedder's time is linear in the
    chunks it embeds, and a third of the pass saves ~4.7 min of a full run. `seconds` is the estimate,
    `measured_seconds` what ran."""
    from rag.chunk import chunk_article, embed_text
    from rag.ingest import IngestReport, read_articles
    from rag.models.embed import make_embedder

    n = int(every)
    s = _settings(tempfile.mkdtemp())
    arts = list(read_articles([Path(subset)], IngestReport()))
    texts = [embed_text(a, c) for a in arts for c in chunk_article(a, s.chunk_chars)]
    sample = texts[::n]
    t0 = time.perf_counter()
    emb = make_embedder(s)
    load = time.perf_counter() - t0  # paid once, whatever the sample: not scaled
    step = 2048 // n  # each call spans as many articles as in the full pass: the same length-sorting pool
    for i in range(0, len(sample), step):
        emb.embed(sample[i : i + step])
    dt = time.perf_counter() - t0
    return {"seconds": round(load + (dt - load) * len(texts) / len(sample), 2), "measured_seconds": round(dt, 2),
            "every": n, "chunks": len(texts), "embedded": len(sample), "rss_mb": _rss_mb()}


def phase_peer(subset: str, index_dir: str, chunk_size: str = "default") -> dict[str, Any]:
    """Plain llama-index as its docs show it, with our embedder wrapped as a llama-index embedding.

    chunk_size "default" keeps llama-index's SentenceSplitter defaults (1024 tokens, 200 overlap): those
    chunks exceed MiniLM's 256-token window, so most of their text is truncated away, never embedded.
    A number instead splits to fit the model (overlap 32), as STACK.md measured."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding

    try:
        from llama_index.vector_stores.chroma import ChromaVectorStore
    except ImportError:
        sys.exit("error: the llama-index peer needs the bench extra: pip install -e '.[bench]' (dev includes it)")

    from rag.models.embed import make_embedder

    t0 = time.perf_counter()
    emb = make_embedder(_settings(index_dir))

    class Wrapped(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return emb.embed([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return emb.embed([query])[0]

        def _get_text_embedding(self, text: str) -> list[float]:
            return emb.embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return emb.embed(texts)

    docs = []
    with open(subset, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs.append(Document(text=r["text"], id_=r["id"],
                                 metadata={"title": r["title"], "date": r["date"], "url": r["url"]}))
    client = chromadb.PersistentClient(path=index_dir, settings=chromadb.Settings(anonymized_telemetry=False))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("peer"))
    ctx = StorageContext.from_defaults(vector_store=store)
    kwargs: dict[str, Any] = {}
    if chunk_size != "default":
        from llama_index.core.node_parser import SentenceSplitter

        kwargs["transformations"] = [SentenceSplitter(chunk_size=int(chunk_size), chunk_overlap=32)]
    VectorStoreIndex.from_documents(docs, storage_context=ctx, embed_model=Wrapped(), **kwargs)
    dt = time.perf_counter() - t0
    return {"seconds": round(dt, 2), "chunks": store._collection.count(), "rss_mb": _rss_mb()}


def phase_replicate(index_dir: str, factor: str) -> dict[str, Any]:
    """Copy every article and chunk vector factor-1 times under new ids (no re-embedding)."""
    from rag.store import Index

    t0 = time.perf_counter()
    with Index.open(_settings(index_dir)) as ix:
        ix.lock()
        base = ix.articles()
        col = ix.collection
        for r in range(1, int(factor)):
            from dataclasses import replace

            copies = [(replace(a, id=f"{a.id}~r{r}"), f"rep{r}-{a.id}") for a in base]
            for i in range(0, len(base), 200):
                ids = [a.id for a in base[i : i + 200]]
                got = col.get(where={"article_id": {"$in": ids}}, include=["embeddings", "metadatas"])
                from rag.types import Chunk

                chunks = [Chunk(f"{m['article_id']}~r{r}", m["idx"], m["start"], m["end"], "")
                          for m in got["metadatas"]]
                ix.write_articles(copies[i : i + 200], chunks, got["embeddings"])
        n_art, n_chunks = ix.counts()
    return {"seconds": round(time.perf_counter() - t0, 1), "articles": n_art, "chunks": n_chunks}


def phase_query(index_dir: str, n: str) -> dict[str, Any]:
    import random

    from rag.answering.retrieve import Retriever
    from rag.models.embed import make_embedder
    from rag.store import Index

    s = _settings(index_dir)
    with Index.open(s) as ix:
        arts = ix.articles()
        rnd = random.Random(0)
        queries = [a.title for a in rnd.sample(arts, min(int(n), len(arts)))]
        r = Retriever(ix, make_embedder(s), s)
        t0 = time.perf_counter()
        r.search("warm up", 5)  # loads (or builds) the BM25 index
        warm = time.perf_counter() - t0
        out: dict[str, Any] = {"chunks": ix.counts()[1], "bm25_load_or_build_seconds": round(warm, 2)}
        for mode in ("dense", "hybrid"):
            lat = []
            for q in queries:
                t = time.perf_counter()
                r.search(q, s.top_k, mode=mode)
                lat.append(time.perf_counter() - t)
            out[mode] = {"p50_ms": round(_pct(lat, 0.5) * 1000, 1), "p95_ms": round(_pct(lat, 0.95) * 1000, 1)}
    out["rss_mb"] = _rss_mb()
    return out


def phase_ask(index_dir: str, questions_file: str) -> dict[str, Any]:
    from rag.answering.answer import ask
    from rag.models.embed import make_embedder
    from rag.models.llm import LLM
    from rag.store import Index

    s = _settings(index_dir)
    qs = [json.loads(line) for line in Path(questions_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    llm, emb = LLM(s), make_embedder(s)
    load = time.perf_counter() - t0
    rows = []
    with Index.open(s) as ix:
        for q in qs:
            t = time.perf_counter()
            a = ask(q["question"], s, index=ix, embedder=emb, llm=llm,
                    as_of=None if not q.get("as_of") else __import__("datetime").date.fromisoformat(q["as_of"]))
            rows.append({"total": time.perf_counter() - t, **a.usage, "refused": a.refused, "answer": a.answer})
    def col(k: str) -> list[float]:
        return [float(r.get(k, 0.0)) for r in rows]
    return {
        "questions": len(rows), "model_load_seconds": round(load, 2),
        "total": {"p50": _pct(col("total"), 0.5), "p95": _pct(col("total"), 0.95)},
        "retrieval": {"p50": _pct(col("retrieve_seconds"), 0.5), "p95": _pct(col("retrieve_seconds"), 0.95)},
        "prompt_processing": {"p50": _pct(col("prompt_seconds"), 0.5), "p95": _pct(col("prompt_seconds"), 0.95)},
        "generation": {"p50": _pct(col("generation_seconds"), 0.5), "p95": _pct(col("generation_seconds"), 0.95)},
        "prompt_tokens_p50": _pct(col("prompt_tokens"), 0.5), "refused": sum(r["refused"] for r in rows),
        "answers_sha256": hashlib.sha256("\n".join(r["answer"] for r in rows).encode()).hexdigest()[:16],
        "rss_mb": _rss_mb(),
    }


def phase_ask_cli(index_dir: str, questions_file: str, n: str, served: str = "0") -> dict[str, Any]:
    """`rag ask --json` as a user runs it, one new process per question: start-up, model load, retrieval,
    prompt and generation, all in the wall time. served=0: each process loads everything (RAG_KEEP_ALIVE=0);
    served=1: a `rag serve` started first keeps the model, embedder and indexes warm; served=auto: the default,
    the first `rag ask` starts that server in the background (its time is reported apart as `first`)."""
    exe = shutil.which("rag") or str(Path(sys.executable).parent / "rag")
    qs = [json.loads(line) for line in Path(questions_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    model_dir = Path(tempfile.mkdtemp(prefix="rag-bench-models-"))  # its own announcement, the model linked
    from rag.config import Settings
    from rag.models.llm import model_file

    src = model_file(Settings())
    (model_dir / src.name).symlink_to(src)
    (model_dir / src.with_suffix(".verified").name).write_text(src.with_suffix(".verified").read_text())
    env = {**os.environ, "RAG_INDEX_DIR": index_dir, "RAG_MODEL_DIR": str(model_dir),
           "RAG_USE_SERVED_MODEL": "0" if served == "0" else "1", "RAG_KEEP_ALIVE": "0" if served == "0" else "600"}
    server = subprocess.Popen([exe, "serve"], env=env, stderr=subprocess.PIPE, text=True) if served == "1" else None
    walls, cached = [], []
    try:
        if server is not None and "serving" not in (server.stderr.readline() if server.stderr else ""):
            return {"error": "rag serve did not start"}
        for q in qs[: int(n)]:
            t = time.perf_counter()
            p = subprocess.run([exe, "ask", "--json", q["question"], *(["--as-of", q["as_of"]] if q.get("as_of") else [])],
                               capture_output=True, text=True, env=env)
            walls.append(time.perf_counter() - t)
            if p.returncode != 0:
                return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
            cached.append(float(json.loads(p.stdout).get("usage", {}).get("cached_prompt_tokens", 0)))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        announced = model_dir / "serve-qwen2.5-coder-1.5b.json"
        if served == "auto" and announced.exists():  # the background server the first ask started
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(json.loads(announced.read_text())["pid"]), 15)
    first = walls.pop(0) if served == "auto" and len(walls) > 1 else None
    return {"questions": len(walls), "wall": {"p50": _pct(walls, 0.5), "max": round(max(walls), 2)},
            "cached_prompt_tokens_p50": _pct(cached, 0.5), **({"first": round(first, 2)} if first else {}),
            "walls": [round(w, 2) for w in walls]}


def phase_digest(index_dir: str, start: str, days: str, busiest: str = "1") -> dict[str, Any]:
    from datetime import date, timedelta

    try:
        from rag.summarise.digest import digest
    except ImportError:
        return {"skipped": "rag.summarise.digest is not available"}
    from rag.models.llm import LLM

    s = _settings(index_dir)
    llm = LLM(s)  # one model for all days: each LLM() loads its own server
    d0 = date.fromisoformat(start)
    out: dict[str, Any] = {}
    days_rows: list[dict[str, Any]] = []
    for label in ("cold", "cached"):
        per_day = []
        for i in range(int(days)):
            d = (d0 + timedelta(days=i)).isoformat()
            before = llm.usage()
            t = time.perf_counter()
            dg = digest(s, since=d, until=d, llm=llm)
            per_day.append(time.perf_counter() - t)
            used = {k: v - before.get(k, 0) for k, v in llm.usage().items()}  # the model is shared by all days
            if label == "cold":
                days_rows.append({"date": d, "articles": len(dg.days[0].articles), "stories": len(dg.days[0].stories),
                                  "model_calls": int(used.get("calls", 0)), "prompt_tokens": int(used.get("prompt_tokens", 0)),
                                  "completion_tokens": int(used.get("completion_tokens", 0)),
                                  "cold_s": round(per_day[-1], 2)})
            else:
                days_rows[i]["cached_s"] = round(per_day[-1], 3)
        out[label] = {"days": len(per_day), "p50": _pct(per_day, 0.5), "p95": _pct(per_day, 0.95),
                      "max": round(max(per_day), 2), "total": round(sum(per_day), 1)}
    out["per_day"] = days_rows
    # the corpus's busiest days (the target: under 60 s each), cold then cached
    from collections import Counter

    from rag.store import Index

    with Index.open(s) as ix:
        per_date = Counter(a.date for a in ix.articles() if a.date)
    out["busiest"] = []
    for d, n in sorted(per_date.items(), key=lambda kv: (-kv[1], kv[0]))[: int(busiest)]:
        before = llm.usage()
        t = time.perf_counter()
        dg = digest(s, since=d, until=d, llm=llm)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        digest(s, since=d, until=d, llm=llm)
        used = {k: v - before.get(k, 0) for k, v in llm.usage().items()}
        out["busiest"].append({"date": d, "articles": n, "stories": len(dg.days[0].stories),
                               "model_calls": int(used.get("calls", 0)), "cold_s": round(cold, 2),
                               "cached_s": round(time.perf_counter() - t, 3)})
    return out


PHASES = {"ours": phase_ours, "floor": phase_floor, "peer": phase_peer, "replicate": phase_replicate,
          "query": phase_query, "ask": phase_ask, "ask_cli": phase_ask_cli, "digest": phase_digest}


# ---- driver -----------------------------------------------------------------------------------
_PARTIAL: dict[str, Any] = {}  # results so far, written after every phase (a long run can be stopped)


def run_phase(name: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one phase in a child process (its own peak RSS); `env` adds settings for that child only."""
    if _PARTIAL.get("path"):
        Path(_PARTIAL["path"]).write_text(json.dumps(_PARTIAL["res"], indent=2))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    p = subprocess.run([sys.executable, "-m", "eval.bench", "--phase", name, *args], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def subset_file(corpus: Path, limit: int, work: Path, change_one: bool = False) -> Path:
    out = work / (f"subset-{limit}" + ("-changed" if change_one else "") + ".jsonl")
    with open(corpus, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
        for i, line in enumerate(f):
            if i >= limit:
                break
            if change_one and i == limit // 2:
                r = json.loads(line)
                r["text"] += " (Updated: a correction was appended to this article.)"
                line = json.dumps(r, ensure_ascii=False) + "\n"
            o.write(line)
    return out


def ask_questions(corpus: Path, work: Path, n: int) -> Path:
    """The first n answerable questions of the Wikinews gold set (or article titles as questions)."""
    gold = ROOT / "eval" / "gold" / "wikinews.jsonl"
    qs: list[dict[str, Any]] = []
    if gold.exists():
        for line in gold.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item.get("question"):
                    qs.append({"question": item["question"], "as_of": item.get("as_of")})
    if not qs:
        with open(corpus, encoding="utf-8") as f:
            qs = [{"question": f"What happened: {json.loads(line)['title']}?"} for _, line in zip(range(n), f, strict=False)]
    out = work / "questions.jsonl"
    out.write_text("".join(json.dumps(q) + "\n" for q in qs[:n]))
    return out


def backends(corpus: Path, out: Path, questions_n: int, rounds: int) -> dict[str, Any]:
    """#7's comparison, on the Wikinews gold subset (264 articles, which hold the gold answers):
    ingest into embedded Chroma vs a real `chroma run` server on 127.0.0.1, dense query latency on each,
    and answers from the packaged model in-process vs through RAG_LLM_BASE_URL to a separate `rag serve`
    process (the code path of any OpenAI-compatible server). Runs alternate (A B B A ...) so the
    machine's drift falls on both sides; only one model process runs at a time."""
    from tests.servers import start_chroma, stop_chroma

    work = Path(tempfile.mkdtemp(prefix="rag-bench-backends-"))
    want = {x.strip() for x in (ROOT / "eval" / "gold" / "wikinews_subset.txt").read_text().splitlines()
            if x.strip() and not x.startswith("#")}
    sub = work / "subset.jsonl"
    with open(corpus, encoding="utf-8") as f, open(sub, "w", encoding="utf-8") as o:
        o.writelines(line for line in f if line.strip() and json.loads(line).get("id") in want)
    res: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                        "python": platform.python_version()},
                           "articles": len(want), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    t_all = time.perf_counter()
    proc, url = start_chroma(work / "chroma")
    try:
        ingest: dict[str, list[dict[str, Any]]] = {"embedded": [], "server": []}
        for r in range(rounds):
            for store in (("embedded", "server") if r % 2 == 0 else ("server", "embedded")):
                env = {"RAG_CHROMA_URL": url, "RAG_CHROMA_COLLECTION": f"bench-{r}"} if store == "server" else {}
                row = run_phase("ours", str(sub), str(work / f"{store}-{r}"), env=env)
                if "seconds" in row:
                    row["other_seconds"] = round(row["seconds"] - row["embed_seconds"], 2)
                ingest[store].append(row)
        res["ingest"] = ingest
        res["query"] = {"embedded": run_phase("query", str(work / "embedded-0"), "50"),
                        "server": run_phase("query", str(work / "server-0"), "50",
                                            env={"RAG_CHROMA_URL": url, "RAG_CHROMA_COLLECTION": "bench-0"})}
    finally:
        stop_chroma(proc)
    questions = str(ask_questions(corpus, work, questions_n))
    ix = str(work / "embedded-0")
    asks: dict[str, list[dict[str, Any]]] = {"in_process": [], "http": []}
    for r in range(rounds):
        for how in (("in_process", "http") if r % 2 == 0 else ("http", "in_process")):
            if how == "in_process":
                asks[how].append(run_phase("ask", ix, questions, env={"RAG_USE_SERVED_MODEL": "0"}))
                continue
            exe = shutil.which("rag") or str(Path(sys.executable).parent / "rag")
            server = subprocess.Popen([exe, "serve"], stderr=subprocess.PIPE, text=True,
                                      env={k: v for k, v in os.environ.items() if k != "RAG_LLM_BASE_URL"})
            try:
                line = server.stderr.readline() if server.stderr else ""
                if " at " not in line:
                    asks[how].append({"error": f"rag serve did not start: {line.strip()}"})
                    continue
                served, rest = line.removeprefix("serving ").split(" at ", 1)  # "serving M at URL: rag ask, ..."
                asks[how].append(run_phase("ask", ix, questions, env={
                    "RAG_LLM_BASE_URL": rest.split(": rag ask", 1)[0], "RAG_LLM_MODEL": served,
                    "RAG_LLM_API_KEY": "none"}))
            finally:
                server.terminate()
                server.wait(timeout=60)
    res["ask"] = asks
    res["total_seconds"] = round(time.perf_counter() - t_all, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "backends.json").write_text(json.dumps(res, indent=2))
    (out / "backends.md").write_text(backends_table(res))
    shutil.rmtree(work, ignore_errors=True)
    return res


def backends_table(r: dict[str, Any]) -> str:
    def runs(rows: list[dict[str, Any]], k: str) -> str:
        return ", ".join(str(x.get(k, x.get("error", "n/a"))) for x in rows)

    i, q, a = r["ingest"], r["query"], r["ask"]
    m = r["machine"]
    lines = [
        f"Backends, {r['started']}, {m['cpus']} CPUs, Python {m['python']}; the {r['articles']} Wikinews "
        f"articles of the gold subset; total {r.get('total_seconds')} s",
        "",
        "| measure | embedded / in-process | Chroma server / HTTP server |",
        "|---|---|---|",
        f"| ingest, s per run | {runs(i['embedded'], 'seconds')} | {runs(i['server'], 'seconds')} |",
        f"| ... of which the embedder, s | {runs(i['embedded'], 'embed_seconds')} | {runs(i['server'], 'embed_seconds')} |",
        f"| ... everything else (read, chunk, SQLite, vector store), s | {runs(i['embedded'], 'other_seconds')} | {runs(i['server'], 'other_seconds')} |",
        f"| chunks | {runs(i['embedded'], 'chunks')} | {runs(i['server'], 'chunks')} |",
        f"| dense query, p50 / p95 ms | {q['embedded'].get('dense', {}).get('p50_ms')} / {q['embedded'].get('dense', {}).get('p95_ms')} "
        f"| {q['server'].get('dense', {}).get('p50_ms')} / {q['server'].get('dense', {}).get('p95_ms')} |",
        f"| hybrid query, p50 / p95 ms | {q['embedded'].get('hybrid', {}).get('p50_ms')} / {q['embedded'].get('hybrid', {}).get('p95_ms')} "
        f"| {q['server'].get('hybrid', {}).get('p50_ms')} / {q['server'].get('hybrid', {}).get('p95_ms')} |",
        f"| answer, p50 s per run (questions per run: {runs(a['in_process'], 'questions')}) "
        f"| {', '.join(str(x.get('total', {}).get('p50', x.get('error'))) for x in a['in_process'])} "
        f"| {', '.join(str(x.get('total', {}).get('p50', x.get('error'))) for x in a['http'])} |",
        f"| answer, p95 s per run | {', '.join(str(x.get('total', {}).get('p95')) for x in a['in_process'])} "
        f"| {', '.join(str(x.get('total', {}).get('p95')) for x in a['http'])} |",
        f"| model load, s | {runs(a['in_process'], 'model_load_seconds')} | {runs(a['http'], 'model_load_seconds')} (client only; `rag serve` loaded it) |",
        f"| answers' sha256 (same text on both paths?) | {runs(a['in_process'], 'answers_sha256')} | {runs(a['http'], 'answers_sha256')} |",
    ]
    return "\n".join(lines) + "\n"


def shell(index_dir: Path, gold: Path | None, n: int, out: Path) -> dict[str, Any]:
    """`rag ask` from a fresh shell, three ways (phase_ask_cli), each in its own process, written to out/shell.*."""
    if gold is None:
        raise SystemExit("bench --shell needs --gold FILE (questions)")
    qs = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()][:n]
    qfile = Path(tempfile.mkdtemp(prefix="rag-bench-q-")) / "q.jsonl"
    qfile.write_text("".join(json.dumps({"question": q["question"], "as_of": q.get("as_of")}) + "\n" for q in qs))
    res: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count(), "gold": str(gold)}
    for label, served in (("no_server", "0"), ("rag_serve", "1"), ("keep_alive", "auto")):
        res[label] = run_phase("ask_cli", str(index_dir), str(qfile), str(len(qs) + (served == "auto")), served)
    out.mkdir(parents=True, exist_ok=True)
    (out / "shell.json").write_text(json.dumps(res, indent=1))
    (out / "shell.md").write_text(shell_table(res))
    return res


def shell_table(res: dict[str, Any]) -> str:
    rows = [f"`rag ask --json` from a fresh shell, {res['started']}, {res['cpus']} CPUs, questions of {res['gold']}",
            "", "| way | questions | wall p50 s | wall max s | first ask s |", "|---|---|---|---|---|"]
    for label in ("no_server", "rag_serve", "keep_alive"):
        r = res.get(label, {})
        w = r.get("wall", {})
        rows.append(f"| {label} | {r.get('questions', r.get('error', '-'))} | {w.get('p50', '-')} | {w.get('max', '-')} | "
                    f"{r.get('first', '-')} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small run for CI (a few minutes)")
    ap.add_argument("--limit", type=int, default=None, help="articles to ingest (default: all; quick: 150)")
    ap.add_argument("--peer-limit", type=int, default=None, help="articles for the llama-index comparison")
    ap.add_argument("--peer-fitted", action="store_true",
                    help="also run llama-index with chunks fitted to the model (SentenceSplitter 256/32)")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "bench")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="the Wikinews articles.jsonl")
    ap.add_argument("--floor-every", type=int, default=None,
                    help="the floor embeds every Nth chunk and scales its time by N (default 3; quick: 1, all)")
    ap.add_argument("--digest-days", type=int, default=None, help="days of digests (default 30; quick: 2)")
    ap.add_argument("--backends", action="store_true",
                    help="instead: embedded Chroma vs a Chroma server, and the model in-process vs over HTTP "
                         "(writes OUT/backends.json and .md)")
    ap.add_argument("--questions", type=int, default=8, help="with --backends: questions per answer run")
    ap.add_argument("--rounds", type=int, default=2, help="with --backends: runs per side, alternated")
    ap.add_argument("--shell", type=Path, default=None, metavar="INDEX_DIR",
                    help="only `rag ask` from the shell over an existing index, with --gold questions: no server, "
                         "with rag serve, and the default keep-alive (eval/bench/shell.json and .md)")
    ap.add_argument("--gold", type=Path, default=None, help="with --shell: a gold JSONL file of questions")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase:
        print(json.dumps(PHASES[a.phase](*a.args)))
        return
    if a.shell:
        print(shell_table(shell(a.shell, a.gold, a.questions, a.out)))
        return
    if not a.corpus.exists():
        print(f"bench: corpus not found at {a.corpus}; nothing measured (use --corpus)", file=sys.stderr)
        sys.exit(0 if a.quick else 1)
    if a.backends:
        print(backends_table(backends(a.corpus, a.out, a.questions, a.rounds)))
        return
    limit = a.limit or (150 if a.quick else 4959)
    peer_limit = a.peer_limit or (150 if a.quick else 600)
    work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    res: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                        "python": platform.python_version()},
                           "quick": a.quick, "limit": limit, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    t_all = time.perf_counter()
    a.out.mkdir(parents=True, exist_ok=True)
    _PARTIAL.update(path=str(a.out / f"{'quick' if a.quick else 'latest'}.partial.json"), res=res)
    full = subset_file(a.corpus, limit, work)
    ix = str(work / "ours")
    res["ingest"] = {"ours": run_phase("ours", str(full), ix), "floor": run_phase("floor", str(full), str(a.floor_every or (1 if a.quick else 3)))}
    o, fl = res["ingest"]["ours"], res["ingest"]["floor"]
    if "seconds" in o and "seconds" in fl:
        res["ingest"]["ours_over_floor"] = round(o["seconds"] / fl["seconds"], 3)
        res["ingest"]["chunks_per_second"] = round(o["chunks"] / o["seconds"], 1)
    res["reingest_unchanged"] = run_phase("ours", str(full), ix)
    res["reingest_one_changed"] = run_phase("ours", str(subset_file(a.corpus, limit, work, change_one=True)), ix)
    psub = subset_file(a.corpus, peer_limit, work) if peer_limit != limit else full
    res["peer"] = {"articles": peer_limit, "peer": run_phase("peer", str(psub), str(work / "peer")),
                   "ours": o if peer_limit == limit else run_phase("ours", str(psub), str(work / "ours-peer"))}
    if a.peer_fitted:
        res["peer"]["peer_fitted"] = run_phase("peer", str(psub), str(work / "peer-fitted"), "256")
    for k in ("peer", "peer_fitted"):
        if "seconds" in res["peer"].get(k, {}) and "seconds" in res["peer"]["ours"]:
            res["peer"][f"{k}_over_ours"] = round(res["peer"][k]["seconds"] / res["peer"]["ours"]["seconds"], 3)
    res["query"] = {"corpus": run_phase("query", ix, "50" if not a.quick else "20")}
    if not a.quick:
        big = str(work / "big")
        shutil.copytree(ix, big)
        chunks = max(o.get("chunks", 1), 1)
        factor = max(2, round(50_000 / chunks))
        res["query"]["replicated"] = {"factor": factor, **run_phase("replicate", big, str(factor))}
        res["query"]["x_large"] = run_phase("query", big, "50")
        shutil.rmtree(big, ignore_errors=True)
    questions = str(ask_questions(a.corpus, work, 5 if a.quick else 20))
    res["ask"] = run_phase("ask", ix, questions)
    res["ask_cli"] = run_phase("ask_cli", ix, questions, "1" if a.quick else "3")
    res["ask_served"] = run_phase("ask_cli", ix, questions, "2" if a.quick else "3", "1")
    days = a.digest_days or (2 if a.quick else 30)
    res["digest"] = run_phase("digest", ix, "2004-11-13" if a.quick else "2005-03-15", str(days), "0" if a.quick else "1")
    res["total_seconds"] = round(time.perf_counter() - t_all, 1)
    a.out.mkdir(parents=True, exist_ok=True)
    name = "quick" if a.quick else "latest"
    (a.out / f"{name}.json").write_text(json.dumps(res, indent=2))
    (a.out / f"{name}.md").write_text(table(res))
    print(table(res))
    shutil.rmtree(work, ignore_errors=True)


def table(r: dict[str, Any]) -> str:
    def g(d: Any, *ks: str) -> Any:
        for k in ks:
            d = d.get(k, {}) if isinstance(d, dict) else {}
        return d if d != {} else "n/a"

    m = r["machine"]
    rows = [
        f"Benchmark ({'quick' if r['quick'] else 'full'}), {r['started']}, {m['cpus']} CPUs, {m['platform']}, "
        f"Python {m['python']}; {r['limit']} Wikinews articles; total {r.get('total_seconds')} s",
        "",
        "| measure | value |",
        "|---|---|",
        f"| ingest, ours (s / chunks / peak RSS MB) | {g(r, 'ingest', 'ours', 'seconds')} / {g(r, 'ingest', 'ours', 'chunks')} / {g(r, 'ingest', 'ours', 'rss_mb')} |",
        f"| ingest, floor: embedder alone (s / peak RSS MB; every {g(r, 'ingest', 'floor', 'every')} chunk(s) embedded, time scaled) | {g(r, 'ingest', 'floor', 'seconds')} / {g(r, 'ingest', 'floor', 'rss_mb')} |",
        f"| **ours / floor** | **{g(r, 'ingest', 'ours_over_floor')}** |",
        f"| chunks per second, ours | {g(r, 'ingest', 'chunks_per_second')} |",
        f"| re-ingest unchanged (s) | {g(r, 'reingest_unchanged', 'seconds')} |",
        f"| re-ingest, one article changed (s) | {g(r, 'reingest_one_changed', 'seconds')} |",
        f"| peer: plain llama-index on {g(r, 'peer', 'articles')} articles (s / chunks / RSS MB) | {g(r, 'peer', 'peer', 'seconds')} / {g(r, 'peer', 'peer', 'chunks')} / {g(r, 'peer', 'peer', 'rss_mb')} |",
        f"| ours on the same articles (s / chunks) | {g(r, 'peer', 'ours', 'seconds')} / {g(r, 'peer', 'ours', 'chunks')} |",
        f"| **peer / ours** (llama-index defaults: 1024-token chunks, truncated to MiniLM's 256) | **{g(r, 'peer', 'peer_over_ours')}** |",
        f"| retrieval at {g(r, 'query', 'corpus', 'chunks')} chunks, dense p50/p95 ms | {g(r, 'query', 'corpus', 'dense', 'p50_ms')} / {g(r, 'query', 'corpus', 'dense', 'p95_ms')} |",
        f"| retrieval at {g(r, 'query', 'corpus', 'chunks')} chunks, hybrid p50/p95 ms | {g(r, 'query', 'corpus', 'hybrid', 'p50_ms')} / {g(r, 'query', 'corpus', 'hybrid', 'p95_ms')} |",
        f"| retrieval at {g(r, 'query', 'x_large', 'chunks')} chunks, dense p50/p95 ms | {g(r, 'query', 'x_large', 'dense', 'p50_ms')} / {g(r, 'query', 'x_large', 'dense', 'p95_ms')} |",
        f"| retrieval at {g(r, 'query', 'x_large', 'chunks')} chunks, hybrid p50/p95 ms | {g(r, 'query', 'x_large', 'hybrid', 'p50_ms')} / {g(r, 'query', 'x_large', 'hybrid', 'p95_ms')} |",
        f"| `ask` over {g(r, 'ask', 'questions')} questions, total p50/p95 s (model load {g(r, 'ask', 'model_load_seconds')} s once) | {g(r, 'ask', 'total', 'p50')} / {g(r, 'ask', 'total', 'p95')} |",
        f"| ... retrieval p50/p95 s | {g(r, 'ask', 'retrieval', 'p50')} / {g(r, 'ask', 'retrieval', 'p95')} |",
        f"| ... prompt processing p50/p95 s | {g(r, 'ask', 'prompt_processing', 'p50')} / {g(r, 'ask', 'prompt_processing', 'p95')} |",
        f"| ... generation p50/p95 s | {g(r, 'ask', 'generation', 'p50')} / {g(r, 'ask', 'generation', 'p95')} |",
        f"| `rag ask --json` from the shell, a new process per question ({g(r, 'ask_cli', 'questions')} questions), wall p50/max s | {g(r, 'ask_cli', 'wall', 'p50')} / {g(r, 'ask_cli', 'wall', 'max')} |",
        f"| ... the same with `rag serve` keeping the model loaded ({g(r, 'ask_served', 'questions')} questions), wall p50/max s | {g(r, 'ask_served', 'wall', 'p50')} / {g(r, 'ask_served', 'wall', 'max')} |",
        f"| digest per day, cold p50/max s ({g(r, 'digest', 'cold', 'days')} days) | {g(r, 'digest', 'cold', 'p50')} / {g(r, 'digest', 'cold', 'max')} |",
        f"| digest per day, cached p50/max s | {g(r, 'digest', 'cached', 'p50')} / {g(r, 'digest', 'cached', 'max')} |",
    ]
    if isinstance(g(r, "peer", "peer_fitted"), dict):
        rows.insert(rows.index(next(x for x in rows if x.startswith("| **peer / ours**"))) + 1,
                    f"| peer fitted to the model (SentenceSplitter 256/32) (s / chunks), and **peer fitted / ours** | "
                    f"{g(r, 'peer', 'peer_fitted', 'seconds')} / {g(r, 'peer', 'peer_fitted', 'chunks')}, "
                    f"**{g(r, 'peer', 'peer_fitted_over_ours')}** |")
    for b in g(r, "digest", "busiest") if isinstance(g(r, "digest", "busiest"), list) else []:
        rows.append(f"| digest of a busiest day, {b['date']}: {b['articles']} articles, {b['stories']} stories, "
                    f"{b['model_calls']} model calls, cold / cached s | {b['cold_s']} / {b['cached_s']} |")
    per_day = g(r, "digest", "per_day")
    if isinstance(per_day, list) and per_day:
        rows += ["", "Digest per day (cold, then cached):", "", "| day | articles | stories | model calls | cold s | cached s |",
                 "|---|---|---|---|---|---|"]
        rows += [f"| {d['date']} | {d['articles']} | {d['stories']} | {d['model_calls']} | {d['cold_s']} | {d.get('cached_s')} |"
                 for d in per_day]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
