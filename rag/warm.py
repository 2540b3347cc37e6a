"""Keep the model, the embedder, the parser and the indexes warm between shell commands, the way Ollama's
keep-alive does.

`rag serve` loads the packaged model (rag.models.llm) and also answers questions over HTTP on 127.0.0.1 (POST
/ask, one JSON line per verified sentence, then the answer), reusing one embedder, one spaCy parser and
the lexical index of each index directory it was asked about. It announces both ports in
RAG_MODEL_DIR/serve-MODEL.json. `rag ask` sends its question to an announced, healthy server; when none
runs and RAG_KEEP_ALIVE is above 0 it starts one in the background (`rag serve --idle-timeout
RAG_KEEP_ALIVE`), which exits after that many seconds without a request. RAG_KEEP_ALIVE=0 disables it:
each command loads what it needs itself.

Requests are answered one at a time (one model, two cores). A request carries the asking command's
settings (its index directory, retrieval and budget settings); the model settings are the server's.

Not handled: a remote LLM endpoint (RAG_LLM_BASE_URL) is not kept warm this way; its commands run in
their own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.models.llm import PACKAGED_MODELS, LocalServer, free_port, serve_file, served_info, served_url
from rag.types import Answer, Citation, Passage, Refusal

START_TIMEOUT = 120.0  # seconds a command waits for a server it started (the model loads in ~3-10 s)
MAX_REQUEST = 64 * 1024  # bytes of one request body
_REQUEST_FIELDS = ("index_dir", "retrieval", "top_k", "evidence_chunks", "evidence", "context_tokens",
                   "event_lag_days", "verify_judge", "max_answer_tokens", "min_relevance", "chroma_url",
                   "chroma_collection", "embed_base_url", "embed_model", "chunk_chars")


class _Warm:
    """What a server keeps between requests: the model client, one embedder, and the last request's time."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        from rag.models.embed import make_embedder
        from rag.models.llm import LLM

        self.settings = settings
        self.llm = LLM(settings.model_copy(update={"llm_base_url": base_url, "llm_model": settings.local_model}))
        self.embedders: dict[tuple[str | None, str | None], Any] = {}
        self.make_embedder = make_embedder
        self.lock = threading.Lock()
        self.last = time.monotonic()

    def embedder(self, s: Settings) -> Any:
        key = (s.embed_base_url, s.embed_model)
        if key not in self.embedders:
            self.embedders[key] = self.make_embedder(s)
        return self.embedders[key]

    def ask(self, req: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> None:
        from rag.answering.answer import ask

        fields = {k: v for k, v in (req.get("settings") or {}).items() if k in _REQUEST_FIELDS}
        s = self.settings.model_copy(update={k: (Path(v) if k == "index_dir" else v) for k, v in fields.items()})
        as_of = date.fromisoformat(req["as_of"]) if req.get("as_of") else None
        with self.lock:
            self.last = time.monotonic()
            try:
                a = ask(str(req.get("question", "")), s, as_of=as_of, since=req.get("since"), until=req.get("until"),
                        embedder=self.embedder(s), llm=self.llm, on_text=lambda t: emit({"text": t}))
            except RagError as e:
                emit({"error": str(e), "kind": type(e).__name__})
                return
            finally:
                self.last = time.monotonic()
        emit({"answer": a.to_dict(), "related": [p.__dict__ for p in a.related],
              "dates": [a.dates.since, a.dates.until] if a.dates else None})


def _handler(warm: _Warm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet: the server runs in the background
            pass

        def do_GET(self) -> None:
            ok = self.path == "/health"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"status": "ok"} if ok else {"error": "not found"}).encode())

        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            if self.path != "/ask" or not 0 < n <= MAX_REQUEST:
                self.send_response(404 if self.path != "/ask" else 413)
                self.end_headers()
                return
            try:
                req = json.loads(self.rfile.read(n))
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()

            def emit(obj: dict[str, Any]) -> None:
                self.wfile.write((json.dumps(obj, ensure_ascii=False) + "\n").encode())
                self.wfile.flush()

            warm.ask(req, emit)

    return Handler


def serve_asks(settings: Settings, base_url: str, idle_timeout: float | None,
               model_port: int | None = None) -> tuple[int, Callable[[], None]]:
    """Start the ask API in a thread; return its port and a function that stops it. With `idle_timeout`,
    the process is sent SIGTERM after that many idle seconds (`serve` then removes its announcement).
    Idle means no question on the ask API and, when `model_port` is given, no completion on the model
    server either: `rag eval`, digests and briefs talk to the model directly, and a server that stopped
    under them would leave their request hanging."""
    import signal

    from rag.models.llm import activity

    warm = _Warm(settings, base_url)
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(warm))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if idle_timeout:
        def watch() -> None:
            seen = activity(model_port) if model_port else None
            while True:
                time.sleep(min(5.0, idle_timeout / 3))
                now = activity(model_port) if model_port else None
                if now is not None and (now[1] > 0 or seen is None or now[0] != seen[0]):
                    warm.last = time.monotonic()  # the model answered someone since the last look
                seen = now
                if not warm.lock.locked() and time.monotonic() - warm.last > idle_timeout:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return

        threading.Thread(target=watch, daemon=True).start()
    return port, httpd.shutdown


# ---- the client side: rag ask ---------------------------------------------------------------------------
def warm_url(settings: Settings) -> str | None:
    """The ask API of a running server for this model directory and model, or None."""

    info = served_info(settings)
    port = info.get("ask_port") if info else None
    if not port:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1.0) as r:
            return f"http://127.0.0.1:{port}" if json.loads(r.read()).get("status") == "ok" else None
    except (OSError, ValueError):
        return None


def start(settings: Settings) -> str | None:
    """Start `rag serve --idle-timeout RAG_KEEP_ALIVE` in the background and wait for its ask API; None when
    it could not start (the caller then answers in its own process)."""
    log = Path(settings.model_dir) / "serve.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rag.cli", "serve", "--idle-timeout", str(settings.keep_alive)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                env={**os.environ, "RAG_MODEL_DIR": str(settings.model_dir), "RAG_LOCAL_MODEL": settings.local_model},
            )
    except OSError:
        return None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if (url := warm_url(settings)) is not None:
            return url
        if proc.poll() is not None:  # it exited: another server won the race, or it failed (see serve.log)
            return warm_url(settings)
        time.sleep(0.2)
    return None


def usable(settings: Settings) -> bool:
    return settings.keep_alive > 0 and settings.use_served_model and not settings.llm_base_url


def remote_ask(url: str, question: str, settings: Settings, *, as_of: date | None, since: str | None,
               until: str | None, on_text: Callable[[str], None] | None) -> Answer:
    """The answer from a warm server (module doc); raises ConnectionError when it cannot be reached."""
    req = {"question": question, "as_of": as_of.isoformat() if as_of else None, "since": since, "until": until,
           "settings": {k: (str(v) if isinstance(v, Path) else v)
                        for k, v in settings.model_dump().items() if k in _REQUEST_FIELDS}}
    body = json.dumps(req).encode()
    r = urllib.request.Request(f"{url}/ask", data=body, headers={"Content-Type": "application/json"})
    try:
        resp = urllib.request.urlopen(r, timeout=max(settings.llm_timeout, 900.0))
    except (urllib.error.URLError, OSError) as e:
        raise ConnectionError(str(e)) from e
    with resp:
        for line in _lines(resp):
            msg = json.loads(line)
            if "text" in msg and on_text:
                on_text(msg["text"])
            elif "error" in msg:
                raise RagError(msg["error"])
            elif "answer" in msg:
                return _answer(question, msg)
    raise ConnectionError("the warm server closed the connection before answering")


def _lines(resp: Any) -> Iterator[bytes]:
    while line := resp.readline():
        if line.strip():
            yield line


def _answer(question: str, msg: dict[str, Any]) -> Answer:
    from rag.answering.retrieve import DateRange

    a = msg["answer"]
    ref = a.get("refusal")
    dates = msg.get("dates")
    return Answer(question, a["answer"], a["refused"], [Citation(**c) for c in a["citations"]],
                  related=[Passage(**p) for p in msg.get("related") or []],
                  usage={**(a.get("usage") or {}), "warm": 1},
                  refusal=Refusal(**ref) if ref else None,
                  dates=DateRange(dates[0], dates[1]) if dates else None)


def serve(settings: Settings, port: int | None = None, on_ready: Callable[[str], None] | None = None,
          idle_timeout: float | None = None) -> NoReturn:
    """`rag serve`: load the local model and the ask API (serve_asks), announce both (see module doc), serve
    until interrupted, or until `idle_timeout` seconds pass without a question or a completion; then exit."""
    import signal

    if settings.llm_base_url:
        raise ConfigError("RAG_LLM_BASE_URL is set, so commands use that server: unset it to serve the local model")
    if served_url(settings):
        raise ConfigError(f"a rag serve for {settings.local_model} already runs for RAG_MODEL_DIR={settings.model_dir}")
    server = LocalServer(settings, port=port)
    ask_port, stop_asks = serve_asks(settings, server.base_url, idle_timeout, model_port=server.port)
    path = serve_file(settings)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": server.port, "ask_port": ask_port,
                               "model": settings.local_model, "sha256": PACKAGED_MODELS[settings.local_model].sha256}))
    os.replace(tmp, path)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill` stops it like Ctrl-C: the announcement is removed
    try:
        if on_ready:
            on_ready(server.base_url)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop_asks()
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
    # Stopped (Ctrl-C, SIGTERM, idle), announcement removed: end the process here rather than return. Releasing
    # `server` unloads the model server, which waits for a request still in flight, and that request never ends;
    # exiting closes its connection instead, and the client asks a model of its own (rag.models.llm.LLM.complete).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
