"""Outside services behind the `openai` client: error translation, and the OpenAI-compatible embedder.

Any endpoint that speaks the OpenAI API (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio) works by
settings alone. The client retries 429, 5xx and connection errors itself, with exponential backoff and
jitter (`max_retries`); what is left after the retries becomes one `BackendError` line that names the
setting to fix. Messages never contain the API key, nor the server's own error text (which some
servers fill with a prefix of the key).

Not handled: streaming embeddings, per-request rate budgets, Azure-style deployments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal

from rag.config import Settings, is_openai
from rag.errors import BackendError, ConfigError


def backend_error(e: Exception, *, what: str, base_url: str, model: str, prefix: str, timeout: float,
                  retries: int) -> BackendError:
    """One clear line for an `openai` exception. `prefix` is the settings family, e.g. RAG_LLM or RAG_EMBED."""
    import openai

    base_url = redact_url(base_url)
    url_var, model_var = f"{prefix}_BASE_URL", f"{prefix}_MODEL"
    key_vars = f"{prefix}_API_KEY / OPENAI_API_KEY" if is_openai(base_url) else \
        f"{prefix}_API_KEY (OPENAI_API_KEY is sent only to https://api.openai.com)"
    if isinstance(e, openai.APITimeoutError):
        msg = f"the {what} endpoint {base_url} did not answer within {timeout:g} s ({retries} retries): " \
              f"raise {prefix}_TIMEOUT or check the server's load"
    elif isinstance(e, openai.APIConnectionError):
        msg = f"cannot reach the {what} endpoint {base_url} ({retries} retries): check {url_var} " \
              "(scheme, host, port, and the /v1 path) and that the server is running"
    elif isinstance(e, openai.AuthenticationError):
        msg = f"the {what} endpoint {base_url} refused the API key (HTTP 401): check {key_vars}"
    elif isinstance(e, openai.PermissionDeniedError):
        msg = f"the {what} endpoint {base_url} denied access (HTTP 403): check {key_vars} and its permissions"
    elif isinstance(e, openai.NotFoundError):
        msg = f"the {what} endpoint {base_url} does not know model {model!r} or the URL path is wrong " \
              f"(HTTP 404): check {model_var} and {url_var} (it usually ends in /v1)"
    elif isinstance(e, openai.RateLimitError):
        msg = f"the {what} endpoint {base_url} is rate limiting (HTTP 429) after {retries} retries: " \
              f"try again later or raise {prefix}_MAX_RETRIES"
    elif isinstance(e, openai.BadRequestError):
        msg = f"the {what} endpoint {base_url} rejected the request for model {model!r} (HTTP 400): " \
              f"check {model_var} (is it a {'chat' if prefix == 'RAG_LLM' else 'embedding'} model?)"
    elif isinstance(e, openai.APIStatusError):
        msg = f"the {what} endpoint {base_url} answered HTTP {e.status_code} after {retries} retries: " \
              f"try again later or check {url_var}"
    else:
        msg = f"the {what} endpoint {base_url} failed ({e.__class__.__name__}): check {url_var}"
    return BackendError(msg)


def redact_url(url: str) -> str:
    """The URL without any user:password part (a key may hide there)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    if u.username is None and u.password is None:
        return url
    host = u.hostname or ""
    netloc = f"***@{host}" + (f":{u.port}" if u.port else "")
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def api_key(settings: Settings, service: Literal["llm", "embed"] = "llm") -> str:
    """The key to send to one endpoint (Settings.key_source: never a key set for another host), else a
    placeholder (local servers accept any key; the openai client refuses an empty one)."""
    return settings.key_source(service)[1] or "none"


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible `/embeddings` endpoint, in batches of RAG_EMBED_BATCH.

    `name` is `openai-compatible:MODEL`, recorded in the index by the first ingest: an index built with
    one model refuses queries embedded by another (the vectors would not be comparable). The endpoint's
    host is not part of the name, so the same model served elsewhere is accepted.
    Vectors are L2-normalised here, whatever the server does.
    """

    def __init__(self, settings: Settings) -> None:
        import openai

        if not settings.embed_base_url:
            raise ConfigError("OpenAIEmbedder needs RAG_EMBED_BASE_URL: set it, or unset it to embed locally")
        if not settings.embed_model:
            raise ConfigError("RAG_EMBED_BASE_URL is set but RAG_EMBED_MODEL is not: set the embedding model name")
        self.settings = settings
        self.base_url = settings.embed_base_url
        self.model = settings.embed_model
        self.name = f"openai-compatible:{self.model}"
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key(settings, "embed"), timeout=settings.embed_timeout,
            max_retries=settings.embed_max_retries,
        )
        self.batch_size = max(1, settings.embed_batch)
        self.calls = 0
        self.tokens = 0
        self.seconds = 0.0
        self.dimension: int | None = None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            out.extend(self._batch(list(texts[i : i + self.batch_size])))
        return out

    def _batch(self, texts: list[str]) -> list[list[float]]:
        import openai

        t0 = time.monotonic()
        try:
            r = self._client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.OpenAIError as e:
            raise backend_error(
                e, what="embedding", base_url=self.base_url, model=self.model, prefix="RAG_EMBED",
                timeout=self.settings.embed_timeout, retries=self.settings.embed_max_retries,
            ) from None  # the chained exception may carry the server's text; keep only our line
        self.calls += 1
        self.seconds += time.monotonic() - t0
        if r.usage is not None:
            self.tokens += r.usage.prompt_tokens
        data = sorted(r.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise BackendError(
                f"the embedding endpoint {self.base_url} returned {len(data)} vectors for {len(texts)} texts: "
                "check RAG_EMBED_BASE_URL points at an OpenAI-compatible /embeddings API"
            )
        vectors = [_normalise(d.embedding) for d in data]
        dims = {len(v) for v in vectors}
        if len(dims) != 1 or (self.dimension is not None and dims != {self.dimension}):
            raise BackendError(
                f"the embedding endpoint {self.base_url} returned vectors of varying size {sorted(dims)}: "
                "check RAG_EMBED_MODEL"
            )
        self.dimension = dims.pop()
        return vectors

    def usage(self) -> dict[str, float]:
        return {"embed_calls": self.calls, "embed_tokens": self.tokens, "embed_seconds": round(self.seconds, 3)}


def _normalise(v: Sequence[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [float(x) / n for x in v]


class MeteredEmbedder:
    """Counts calls, texts and seconds of any embedder (for --verbose and --json usage)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.calls = 0
        self.texts = 0
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        t0 = time.monotonic()
        out: list[list[float]] = self.inner.embed(texts)
        self.seconds += time.monotonic() - t0
        self.calls += 1
        self.texts += len(texts)
        return out

    def usage(self) -> dict[str, float]:
        out = {"embed_calls": self.calls, "embed_texts": self.texts, "embed_seconds": round(self.seconds, 3)}
        if isinstance(self.inner, OpenAIEmbedder):  # an endpoint reports the tokens it billed
            out["embed_tokens"] = self.inner.tokens
        return out
