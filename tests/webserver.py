"""A real uvicorn server on 127.0.0.1 serving `rag web`'s app (in a thread of the test process, so a test can
give it a model), fakes of the model that a test can hold mid-generation, and headless Chromium."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from rag.config import Settings
from rag.models.llm import Completion

from .conftest import FakeChat
from .newsdata import CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def web_server(settings: Settings, **components: Any) -> Iterator[str]:
    """`rag web`'s app (rag.web.app.create_app, behind its guard) on a real uvicorn server; its base URL."""
    import uvicorn

    from rag.web.app import create_app, wrap

    app = create_app(settings, **components)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(wrap(app, settings), host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        app.state.web.queue.close()


class GatedChat(FakeChat):
    """FakeChat's answer (the passage sentence sharing most words with the question, cited), followed by the
    next sentence of that passage, streamed word by word. For a question containing `hold`, generation stops
    after the first sentence and the start of the second until `gate` is set: a test sees what the page
    shows while the model is still generating. While held it keeps emitting empty tokens, so a cancelled
    request notices (rag.web.queue.Cancellable)."""

    def __init__(self, hold: str = "") -> None:
        super().__init__()
        self.hold, self.gate, self.held = hold.lower(), threading.Event(), threading.Event()

    def complete(self, system: str, user: str, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        if system.startswith("You check claims"):
            return super().complete(system, user, max_tokens, on_text)
        on_text = on_text or (lambda t: None)
        self.prompts.append((system, user))
        first = self._extract(user)
        second = _tidy(_next_sentence(user, first))
        first = _tidy(first)
        text = f"{first} {second}".strip()
        question = user.rsplit("Question:", 1)[-1].lower()
        words = re.findall(r"\S+\s*", first + " ")
        for w in words:
            on_text(w)
        if second:
            on_text(second.split()[0] + " ")
            if self.hold and self.hold in question:
                self.held.set()
                while not self.gate.wait(0.2):
                    on_text("")
            on_text(" ".join(second.split()[1:]))
        return Completion(text, len(user) // 4, len(text) // 4, 0.0)


def _tidy(cited: str) -> str:
    """'Text. [2]' or 'Heading [2]' as a model writes it: 'Text [2].' (so sentences split where they end)."""
    m = re.search(r"\s*\[(\d+)\]$", cited)
    return f"{cited[: m.start()].rstrip().rstrip('.!?')} [{m.group(1)}]." if m else cited


def _next_sentence(user: str, first: str) -> str:
    """The sentence after `first` in its passage (with first's citation), or ''."""
    m = re.search(r"\[(\d+)\]$", first)
    if not m:
        return ""
    body = first[: m.start()].strip()
    for block in re.finditer(r"^\[(\d+)\] (.*)$", user, re.M):  # one line per passage (rag.answering.answer.format_passages)
        sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", block.group(2)) if s.strip()]
        if body in sents and len(sents) > 1:  # the next sentence, or the one before the last
            i = sents.index(body)
            return f"{sents[i + 1] if i + 1 < len(sents) else sents[i - 1]} [{block.group(1)}]"
    return ""


def browser_or_skip() -> Any:
    """Playwright's Chromium API over the system Chromium. Missing Chromium or playwright skips, saying so,
    except under RAG_TEST_BROWSER=required (.ci/run sets it): then the test fails."""
    required = os.environ.get("RAG_TEST_BROWSER") == "required"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("playwright is not installed: pip install -e '.[dev]'")
        pytest.skip("playwright not installed (pip install -e '.[dev]')")
    if CHROMIUM is None:
        if required:
            pytest.fail("chromium is not installed: apt-get install -y chromium")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return sync_playwright
