"""`rag web`'s JSON API against a real uvicorn server over HTTP: the CLI's contracts, errors as one line
with a 4xx, the one-model queue (the second ask waits, both answer; a cancelled one frees the model),
limits, and writes only with the token."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from rag.config import Settings
from rag.store import Index

from .conftest import FakeChat
from .webserver import GatedChat, free_port, web_server

SEED_Q = "Which city hosted the US-Ukraine talks?"


def _events(lines: Any) -> Any:
    """(event, data) pairs of a server-sent event stream."""
    event = None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event:
            yield event, json.loads(line[6:])
            event = None


def _one_line_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and "Traceback" not in body["error"]
    return str(body["error"])


def test_api_keeps_the_cli_contracts(seed_settings: Settings, embedder: object) -> None:
    with web_server(seed_settings, embedder=embedder, llm=FakeChat()) as url, httpx.Client(base_url=url, timeout=120) as c:
        a = c.post("/api/ask", json={"question": SEED_Q}).json()
        assert set(a) >= {"answer", "refused", "refusal", "citations", "usage"} and not a["refused"], a
        for cite in a["citations"]:
            art = c.get(f"/api/articles/{cite['article_id']}").json()
            assert art["text"][cite["start"] : cite["end"]] == cite["text"]  # as `rag show --json`
            assert f"[{cite['n']}]" in a["answer"]
        with Index.open(seed_settings) as ix:
            assert c.get("/api/stats").json() == json.loads(json.dumps(ix.stats()))
            day = ix.stats()["articles_per_day"]
        listed = c.get("/api/articles").json()
        assert listed["total"] == 1 and listed["articles"][0]["id"] == cite["article_id"]
        (d,) = day  # type: ignore[misc]
        dg = c.get("/api/digest", params={"date": d}).json()
        assert dg["days"][0]["date"] == d and dg["days"][0]["stories"]
        b = c.post("/api/brief", json={"topic": "Geneva peace talks"}).json()
        assert set(b) >= {"topic", "overview", "timeline", "conflicts", "coverage"} and b["timeline"]
        chk = c.post("/api/check", json={"text": "Zelensky said negotiations are ongoing. Bananas are purple."}).json()
        assert chk["supported"] + chk["unsupported"] == 2 == len(chk["sentences"])
        assert chk["sentences"][0]["supported"] and not chk["sentences"][1]["supported"]
        form = c.post("/check", data={"text": "Zelensky said negotiations are ongoing. Bananas are purple."})
        assert form.status_code == 200 and "1 of 2 sentences supported" in form.text  # the page without its script
        assert "lib;dur=" in c.get("/api/stats").headers["server-timing"]
        schema = c.get("/api/openapi.json").json()
        for path in ("/api/ask", "/api/ask/stream", "/api/digest", "/api/brief", "/api/articles/{article_id}",
                     "/api/stats", "/api/check", "/api/ingest"):
            assert path in schema["paths"], path
        events = list(_events(c.get("/api/ask/stream", params={"question": SEED_Q}).text.splitlines()))
        kinds = [e for e, _ in events]
        assert kinds[0] == "start" and kinds[-1] == "done" and "sentence" in kinds and "generated" in kinds
        streamed = "".join(x["text"] for e, x in events if e == "sentence").strip()
        assert streamed == events[-1][1]["answer"]
        events = list(_events(c.get("/api/digest/stream", params={"date": d}).text.splitlines()))
        assert [e for e, _ in events] == ["start", "view", "done"] and events[-1][1] == dg
        page = c.get(events[1][1]["href"])  # the page showing that digest, without another turn on the model
        assert page.status_code == 200 and 'class="story"' in page.text and 'id="wait"' not in page.text
        assert 'id="wait"' in c.get(f"/days/{d}").text and 'id="wait"' in c.get(f"/days/{d}?result=forged").text


def test_bad_input_is_one_line_with_a_4xx(seed_settings: Settings, embedder: object) -> None:
    small = seed_settings.model_copy(update={"web_max_body": 2000, "web_rate_limit": 4})
    with web_server(small, embedder=embedder, llm=FakeChat()) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert "question is empty" in _one_line_error(c.post("/api/ask", json={"question": "  "}), 400)
        assert "YYYY-MM-DD" in _one_line_error(c.post("/api/ask", json={"question": "q?", "since": "2025-02-30"}), 400)
        assert "question" in _one_line_error(c.post("/api/ask", json={"nope": 1}), 422)
        assert "no article" in _one_line_error(c.get("/api/articles/nope"), 404)
        assert "RAG_WEB_MAX_BODY" in _one_line_error(c.post("/api/check", json={"text": "x" * 5000}), 413)
        _one_line_error(c.get("/api/nothing-here"), 404)
        _one_line_error(c.get("/api/digest", params={"date": "yesterday"}), 400)
        page = c.get("/articles/nope")
        assert page.status_code == 404 and "no article" in page.text and "Traceback" not in page.text
        # the rate limit: model requests per client per minute (4 here; 2 used above reached the model queue)
        codes = [c.post("/api/check", json={"text": "Talks were held in Geneva."}).status_code for _ in range(4)]
        assert codes.count(429) >= 1 and codes[0] == 200, codes
        assert "RAG_WEB_RATE_LIMIT" in _one_line_error(c.post("/api/check", json={"text": "Geneva."}), 429)


def test_concurrent_asks_queue_for_the_model_and_both_answer(seed_settings: Settings, embedder: object) -> None:
    llm = GatedChat(hold="city")
    with web_server(seed_settings, embedder=embedder, llm=llm) as url, httpx.Client(base_url=url, timeout=120) as c:
        first: dict[str, Any] = {}
        t = threading.Thread(target=lambda: first.update(c.post("/api/ask", json={"question": SEED_Q}).json()))
        t.start()
        assert llm.held.wait(120), "the first ask never reached the model"
        assert c.get("/api/queue").json() == {"running": True, "waiting": 0}
        with c.stream("GET", "/api/ask/stream", params={"question": "Where did Zelensky's team return from?"}) as r:
            events = _events(r.iter_lines())
            assert next(events) == ("queue", {"ahead": 1})  # the second waits its turn, and is told so
            assert c.get("/api/queue").json() == {"running": True, "waiting": 1}
            llm.gate.set()
            rest = list(events)
        t.join(120)
        assert rest[0][0] == "start" and rest[-1][0] == "done", rest
        second = rest[-1][1]
        assert not first["refused"] and first["citations"] and "Geneva" in first["answer"], first
        assert not second["refused"] and second["citations"], second
        assert c.get("/api/queue").json() == {"running": False, "waiting": 0}


def test_a_cancelled_ask_frees_the_model_for_the_next(seed_settings: Settings, embedder: object) -> None:
    llm = GatedChat(hold="city")  # the first ask is held mid-generation and its client goes away
    with web_server(seed_settings, embedder=embedder, llm=llm) as url, httpx.Client(base_url=url, timeout=120) as c:
        with c.stream("GET", "/api/ask/stream", params={"question": SEED_Q}) as r:
            events = _events(r.iter_lines())
            assert next(events)[0] == "start"
            assert llm.held.wait(120)
        # the connection is closed; the gate never opens: only cancellation can free the model
        a = c.post("/api/ask", json={"question": "Where did Zelensky's team return from?"})
        assert a.status_code == 200 and not a.json()["refused"], a.text
        assert not llm.gate.is_set()


def test_writes_need_the_token(seed_settings: Settings, embedder: object) -> None:
    rec = {"id": "web-1", "title": "Port strike ends in Rotterdam", "date": "2025-11-25",
           "text": "Dock workers in Rotterdam ended their strike on Tuesday after a pay deal was agreed."}
    with web_server(seed_settings, embedder=embedder, llm=FakeChat()) as url, httpx.Client(base_url=url) as c:
        assert "RAG_WEB_TOKEN" in _one_line_error(c.post("/api/ingest", json={"articles": [rec]}), 403)
    guarded = seed_settings.model_copy(update={"web_token": SecretStr("s3cret-token")})
    with web_server(guarded, embedder=embedder, llm=FakeChat()) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert "token" in _one_line_error(c.post("/api/ingest", json={"articles": [rec]}), 401)
        bad = {"Authorization": "Bearer wrong"}
        _one_line_error(c.post("/api/ingest", json={"articles": [rec]}, headers=bad), 401)
        _one_line_error(c.delete("/api/articles/web-1", headers=bad), 401)
        _one_line_error(c.post("/api/feeds", json={"url": "https://example.org/rss"}), 401)
        assert c.get("/api/articles/web-1").status_code == 404  # nothing was written
        ok = {"Authorization": "Bearer s3cret-token"}
        r = c.post("/api/ingest", json={"articles": [rec]}, headers=ok)
        assert r.status_code == 200 and r.json()["added"] == 1, r.text
        assert c.get("/api/articles/web-1").json()["text"] == rec["text"]
        assert c.delete("/api/articles/web-1", headers=ok).status_code == 200
        assert c.get("/api/articles/web-1").status_code == 404


def test_rag_web_command_serves_the_pages_and_warns_off_loopback(seed_settings: Settings, tmp_path: Path) -> None:
    """The console script on the seed index: every page that needs no model answers; binding to all
    interfaces without a token warns."""
    exe = Path(sys.executable).parent / "rag"
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(exe), "web", "--host", "0.0.0.0", "--port", str(port), "--index",
                                 str(seed_settings.index_dir)], stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(retries=50)) as c:
            for _ in range(600):
                try:
                    c.get("/api/stats")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, log.read_text()
                    threading.Event().wait(0.1)
            aid = c.get("/api/articles").json()["articles"][0]["id"]
            for path in ("/ask", "/days", "/story", "/check", f"/articles/{aid}", "/api/openapi.json", "/static/web.js"):
                r = c.get(path)
                assert r.status_code == 200, (path, r.status_code)
                assert "script-src 'self'" in r.headers["content-security-policy"]
            assert c.get("/").status_code == 303
    finally:
        proc.terminate()
        proc.wait(15)
    text = log.read_text()
    assert "warning: serving on 0.0.0.0" in text and "RAG_WEB_TOKEN" in text, text


def test_a_plain_request_whose_client_goes_away_frees_the_model(seed_settings: Settings, embedder: object) -> None:
    import socket

    llm = GatedChat(hold="city")
    with web_server(seed_settings, embedder=embedder, llm=llm) as url, httpx.Client(base_url=url, timeout=120) as c:
        body = json.dumps({"question": SEED_Q}).encode()
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            assert llm.held.wait(120), "the first ask never reached the model"
        # the client is gone and the gate never opens: only noticing the disconnect can free the model
        a = c.post("/api/ask", json={"question": "Where did Zelensky's team return from?"})
        assert a.status_code == 200 and not a.json()["refused"], a.text
        assert not llm.gate.is_set()


def test_rag_web_on_a_busy_port_is_one_line_and_status_1(seed_settings: Settings) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([str(Path(sys.executable).parent / "rag"), "web", "--port", str(port), "--index",
                            str(seed_settings.index_dir)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot serve on 127.0.0.1:") and "--port" in lines[0], r.stderr
