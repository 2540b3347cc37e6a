"""Benchmark `rag web` on the seed index with the embedded model, and take the README's screenshots.

    python -m eval.bench_web [--shots docs/] [--out eval/bench/web.md]

1. Time to first verified sentence on a page: headless Chromium (playwright over the system Chromium) opens
   /ask?q=...; the page's own clock (performance.now(), from navigation start) when the first verified sentence
   is added to the DOM, and when the finished answer replaces it.
   The model is loaded and warmed by one ask first; each question is asked once.
2. The API's added latency over the library call: for each endpoint, the client's round trip (httpx, keep-alive)
   minus the time the server spent in the library call itself (its `Server-Timing: lib;dur=` header): routing,
   validation, the thread hop, JSON, HTTP. Medians over repeated calls.
Timing never fails anything; the numbers go to --out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["Which city hosted the US-Ukraine talks?", "Where is Zelensky's negotiation team returning from?"]


def _server(settings: Any, **components: Any) -> tuple[str, Any, threading.Thread]:
    import socket

    import uvicorn

    from rag.web.app import create_app, wrap

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(wrap(create_app(settings, **components), settings), host="127.0.0.1",
                                           port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, t


def _lib_ms(r: Any) -> float:
    return float(r.headers["server-timing"].split("dur=")[1])


def main() -> None:
    import httpx
    from playwright.sync_api import sync_playwright

    from rag.config import Settings
    from rag.ingest import ingest
    from rag.models.embed import make_embedder
    from rag.models.llm import LLM

    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=Path, default=None, help="Save the page screenshots here (PNG).")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "bench" / "web.md")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    settings = Settings(index_dir=tmp / "index", use_served_model=False, keep_alive=0)
    embedder = make_embedder(settings)
    ingest([ROOT / "seeds"], settings, embedder=embedder)
    llm = LLM(settings)
    url, server, thread = _server(settings, embedder=embedder, llm=llm)
    lines: list[str] = []
    try:
        with httpx.Client(base_url=url, timeout=900) as c:
            t0 = time.perf_counter()
            c.post("/api/ask", json={"question": "What did Trump post on Truth Social?"})  # loads and warms
            warm = time.perf_counter() - t0
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
                pg = b.new_page(viewport={"width": 1100, "height": 820})
                pg.set_default_timeout(900_000)
                firsts, dones = [], []
                for q in QUESTIONS:
                    pg.goto(f"{url}/ask?q={quote(q)}")
                    pg.wait_for_selector("#ask[data-done]")
                    first = pg.get_attribute("#ask", "data-first-sentence-ms")  # the page's clock, from navigation
                    if first is not None:  # a refusal shows no sentence
                        firsts.append(int(first) / 1000)
                    dones.append(int(pg.get_attribute("#ask", "data-done-ms") or 0) / 1000)
                    shown = f"{firsts[-1]:.1f}" if len(firsts) == len(dones) else "refused"
                    lines.append(f"| {q} | {shown} | {dones[-1]:.1f} | {pg.inner_text('#answer')[:90]} |")
                    print(lines[-1], flush=True)
                if args.shots:
                    _screenshots(pg, url, args.shots)
                b.close()
            aid = c.get("/api/articles").json()["articles"][0]["id"]
            added: dict[str, list[float]] = {}
            calls: list[tuple[str, str, dict[str, Any] | None, int]] = [
                ("GET /api/stats", "/api/stats", None, 30), ("GET /api/articles/{id}", f"/api/articles/{aid}", None, 30),
                ("POST /api/check (1 sentence)", "/api/check", {"text": "Zelensky said negotiations are ongoing."}, 10),
                ("POST /api/ask", "/api/ask", {"question": QUESTIONS[0]}, 2)]
            print("api", flush=True)
            for name, path, body, n in calls:
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = c.post(path, json=body) if body else c.get(path)
                    total = (time.perf_counter() - t0) * 1000
                    added.setdefault(name, []).append(total - _lib_ms(r))
    finally:
        server.should_exit = True
        thread.join(10)
    md = [f"# rag web benchmark ({time.strftime('%Y-%m-%d')}, seed index, embedded {settings.local_model}, "
          f"{os.cpu_count()} cores shared with other jobs)", "",
          f"Model load and first (warm-up) ask through the API: {warm:.1f} s.", "",
          "## Time to first verified sentence on the ask page (headless Chromium, navigation to first sentence)", "",
          "| question | first sentence (s) | answer done (s) | answer |", "|---|---|---|---|", *lines, "",
          f"Median time to first verified sentence: {statistics.median(firsts or [float('nan')]):.1f} s "
          f"(the model streams; a sentence shows once it is complete and verified).", "",
          "## API added latency over the library call (client round trip minus Server-Timing lib;dur)", "",
          "| endpoint | calls | median added (ms) | max added (ms) |", "|---|---|---|---|"]
    md += [f"| {k} | {len(v)} | {statistics.median(v):.1f} | {max(v):.1f} |" for k, v in added.items()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))


def _screenshots(pg: Any, url: str, out: Path) -> None:
    """The pages as the README shows them (the seed index, the embedded model)."""
    out.mkdir(parents=True, exist_ok=True)
    print("screenshots", flush=True)
    pg.goto(f"{url}/ask?q={quote(QUESTIONS[1])}")
    pg.wait_for_selector("#ask[data-done]")
    pg.screenshot(path=str(out / "web-ask.png"))
    pg.click("#answer a.cref >> nth=0")
    pg.wait_for_url("**/articles/**")
    pg.screenshot(path=str(out / "web-article.png"))
    pg.goto(f"{url}/days")
    pg.screenshot(path=str(out / "web-days.png"))
    pg.goto(f"{url}/days/2025-11-24")
    pg.wait_for_selector("article.story")
    pg.click("sup a >> nth=0")
    pg.screenshot(path=str(out / "web-day.png"))
    pg.goto(f"{url}/story?topic={quote('Geneva peace talks')}")
    pg.wait_for_url("**/story/brief?**")
    pg.screenshot(path=str(out / "web-story.png"), full_page=True)
    pg.goto(f"{url}/check")
    pg.fill("textarea[name=text]", "Zelensky's negotiation team is returning from Switzerland. "
            "Yuri Ushakov called the European plan totally constructive.")
    pg.click("form button")
    pg.wait_for_selector("#summary")
    pg.screenshot(path=str(out / "web-check.png"), full_page=True)


if __name__ == "__main__":
    main()
