"""Many users, one model: requests that use the model take turns, each knowing its place in the line.

`ModelQueue` lives in the web server's event loop. A request `join`s (refused with `QueueFull` beyond
RAG_WEB_MAX_QUEUE waiting), iterates `positions` (how many are ahead of it; the page shows it) until its
turn, then `run`s its library call in the one model thread. A request whose client goes away, or that
holds the model longer than RAG_WEB_MAX_SECONDS, is cancelled: its `Cancellable` model raises `Cancelled`
at the next generated token or model call, and the line moves on once that thread has stopped (never two
calls on the model at once). A slow reader never holds the model: events go to an unbounded buffer.

Not handled: a cancelled request inside a long non-model step (retrieval, a digest's clustering) runs
that step to its end before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rag.errors import RagError
from rag.models.llm import ChatModel, Completion

T = TypeVar("T")


class Cancelled(Exception):  # noqa: N818 - a state, not an error a user caused
    """Raised in the model thread when its request was cancelled (client gone, or too slow)."""


class QueueFull(RagError):  # noqa: N818
    pass


class Ticket:
    """One request's place in the line and its cancel flag (read by the model thread)."""

    _ids = itertools.count(1)

    def __init__(self) -> None:
        self.id = next(self._ids)
        self.cancel = threading.Event()
        self.changed = asyncio.Event()


class Cancellable:
    """A ChatModel that stops when its ticket is cancelled; `on_generated` is called when a streamed
    completion (an answer's generation) ends."""

    def __init__(self, llm: ChatModel, cancel: threading.Event,
                 on_generated: Callable[[], None] | None = None) -> None:
        self.llm, self.cancel, self.on_generated = llm, cancel, on_generated
        self.model = str(getattr(llm, "model", None) or type(llm).__name__)  # cache keys name the real model

    def complete(self, system: str, user: str, max_tokens: int,
                 on_text: Callable[[str], None] | None = None) -> Completion:
        if self.cancel.is_set():
            raise Cancelled

        def token(t: str) -> None:
            if self.cancel.is_set():
                raise Cancelled
            if on_text:
                on_text(t)

        done = self.llm.complete(system, user, max_tokens, on_text=token)  # streamed, so a cancel stops it
        if on_text and self.on_generated:
            self.on_generated()
        return done

    def usage(self) -> dict[str, float]:
        return self.llm.usage()


class ModelQueue:
    """First come, first served; one request on the model at a time (module doc)."""

    def __init__(self, max_waiting: int, max_seconds: float) -> None:
        self.max_waiting, self.max_seconds = max_waiting, max_seconds
        self.line: list[Ticket] = []  # the running request (if any) first, then the waiting ones
        self.running: Ticket | None = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-model")

    def check_room(self) -> None:
        """QueueFull when RAG_WEB_MAX_QUEUE requests already wait."""
        waiting = len(self.line) - (1 if self.running else 0)
        if waiting >= self.max_waiting:
            raise QueueFull(f"{waiting} requests are already waiting for the model (RAG_WEB_MAX_QUEUE): try again shortly")

    def join(self) -> Ticket:
        self.check_room()
        t = Ticket()
        self.line.append(t)
        return t

    def ahead(self, t: Ticket) -> int:
        return self.line.index(t) if t in self.line else 0

    async def positions(self, t: Ticket, tick: float = 1.0) -> AsyncIterator[int]:
        """Yields the number of requests ahead of `t` when it changes and every `tick` seconds (so the
        caller can notice its client has gone); returns when it is t's turn."""
        while True:
            pos = self.ahead(t)
            if pos == 0 and self.running is None:
                self.running = t
                return
            yield pos
            t.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(t.changed.wait(), tick)

    def leave(self, t: Ticket) -> None:
        if t in self.line:
            self.line.remove(t)
        if self.running is t:
            self.running = None
        for other in self.line:
            other.changed.set()

    async def run(self, t: Ticket, fn: Callable[[], T]) -> T:
        """`fn` in the model thread (t must hold its turn); t leaves the line when the thread ends, also
        when the awaiting request is cancelled or times out (then the thread is told to stop)."""
        fut = asyncio.get_running_loop().run_in_executor(self.pool, fn)

        def release(f: asyncio.Future[Any]) -> None:
            if not f.cancelled():
                f.exception()  # retrieved: a cancelled request's Cancelled is expected
            self.leave(t)

        try:
            result = await asyncio.wait_for(asyncio.shield(fut), self.max_seconds)
        except (asyncio.CancelledError, TimeoutError) as e:
            t.cancel.set()
            fut.add_done_callback(release)
            if isinstance(e, TimeoutError):
                raise RagError(f"the request held the model longer than {self.max_seconds:g} s "
                               "(RAG_WEB_MAX_SECONDS) and was cancelled") from None
            raise
        except BaseException:
            self.leave(t)
            raise
        self.leave(t)
        return result

    async def call(self, fn: Callable[[Ticket], T]) -> T:
        """Wait for the turn, then run fn(ticket): for requests that show no queue position."""
        t = self.join()
        try:
            async for _ in self.positions(t):
                pass
        except BaseException:
            self.leave(t)
            raise
        return await self.run(t, lambda: fn(t))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
