"""`rag serve`: one process keeps the local model loaded; other commands find it and skip the load."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.models.llm import LLM, PACKAGED_MODELS, served_url

from .conftest import private_model_dir

EXE = shutil.which("rag") or str(Path(sys.executable).parent / "rag")
SHA = PACKAGED_MODELS["qwen2.5-coder-1.5b"].sha256


def _announce(model_dir: Path, pid: int, port: int) -> Path:
    path = model_dir / "serve-qwen2.5-coder-1.5b.json"
    path.write_text(json.dumps({"pid": pid, "port": port, "model": "qwen2.5-coder-1.5b", "sha256": SHA}))
    return path


def test_an_announcement_left_by_a_dead_server_is_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = _announce(tmp_path, gone.pid, 9)
    s = Settings(model_dir=tmp_path, use_served_model=True)
    assert served_url(s) is None and not path.exists()


def test_a_live_process_that_does_not_answer_is_not_used(tmp_path: Path) -> None:
    path = _announce(tmp_path, os.getpid(), 9)  # this process is alive, but nothing serves port 9
    s = Settings(model_dir=tmp_path, use_served_model=True)
    assert served_url(s) is None and path.exists()
    assert served_url(Settings(model_dir=tmp_path, use_served_model=False)) is None


@pytest.mark.slow
def test_commands_use_the_model_rag_serve_keeps_loaded(seed_settings: Settings, tmp_path: Path) -> None:
    MODEL_DIR = private_model_dir(tmp_path)
    env = {**os.environ, "RAG_MODEL_DIR": str(MODEL_DIR), "RAG_USE_SERVED_MODEL": "1",
           "RAG_INDEX_DIR": str(seed_settings.index_dir)}
    server = subprocess.Popen([EXE, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    s = Settings(model_dir=MODEL_DIR, use_served_model=True)
    try:
        assert server.stderr is not None
        ready = server.stderr.readline()
        url = served_url(s)
        assert url and f"at {url}" in ready, ready
        llm = LLM(s)
        assert llm._local is None and llm.base_url == url  # no model of its own
        out = subprocess.run([EXE, "ask", "--json", "Which city hosted the US-Ukraine talks?"],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        a = json.loads(out.stdout)
        assert not a["refused"] and "Geneva" in a["answer"] and a["citations"]
        doctor = subprocess.run([EXE, "doctor"], capture_output=True, text=True, env=env, timeout=300)
        assert f"kept loaded by `rag serve` at {url}" in doctor.stdout, doctor.stdout
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert not (MODEL_DIR / "serve-qwen2.5-coder-1.5b.json").exists()
    assert served_url(s) is None


@pytest.mark.slow
def test_ask_starts_a_warm_server_that_later_asks_reuse_and_that_exits_when_idle(seed_settings: Settings,
                                                                                 tmp_path: Path) -> None:
    """The first `rag ask` starts `rag serve --idle-timeout N` in the background; the next one is answered by
    it (model, embedder, parser and index warm); with no question for N seconds it exits and removes its
    announcement."""
    import time

    model_dir = private_model_dir(tmp_path)
    env = {**os.environ, "RAG_MODEL_DIR": str(model_dir), "RAG_KEEP_ALIVE": "15", "RAG_USE_SERVED_MODEL": "1",
           "RAG_INDEX_DIR": str(seed_settings.index_dir)}
    announcement = model_dir / "serve-qwen2.5-coder-1.5b.json"

    def ask(q: str) -> dict[str, object]:
        out = subprocess.run([EXE, "ask", "--json", "--as-of", "2025-11-25", q], capture_output=True, text=True,
                             env=env, timeout=600)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    first = ask("Which city hosted the US-Ukraine talks?")
    assert not first["refused"] and "Geneva" in str(first["answer"])
    info = json.loads(announcement.read_text())
    assert info["ask_port"] and first["usage"]["warm"] == 1  # type: ignore[index]
    second = ask("What did Trump write on Monday about the talks?")
    assert second["usage"]["warm"] == 1  # type: ignore[index]
    assert json.loads(announcement.read_text())["pid"] == info["pid"]  # the same server, not a new one
    deadline = time.monotonic() + 120
    while announcement.exists() and time.monotonic() < deadline:
        time.sleep(1)
    assert not announcement.exists()
    while _running(int(info["pid"])) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _running(int(info["pid"]))


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whatever adopted it, maybe later)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.slow
def test_a_warm_server_stays_up_while_commands_use_its_model_directly(tmp_path: Path) -> None:
    """`rag eval`, digests and briefs send completions to the served model, not to the ask API: those count
    as activity, so the idle timeout does not stop the server under a running command (which then waited
    for an answer that never came), and the server still exits once nothing uses it."""
    model_dir = private_model_dir(tmp_path)
    env = {**os.environ, "RAG_MODEL_DIR": str(model_dir), "RAG_USE_SERVED_MODEL": "1"}
    server = subprocess.Popen([EXE, "serve", "--idle-timeout", "6"], env=env, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    assert "serving" in server.stderr.readline()
    client = ("import time\n"
              "from rag.config import Settings\n"
              "from rag.models.llm import LLM\n"
              "llm = LLM(Settings())\n"
              "assert llm._local is None, 'not the served model'\n"
              "t0 = time.monotonic(); n = tries = 0\n"
              "while time.monotonic() - t0 < 16 or tries < 3:  # past the idle timeout, however slow the machine\n"
              "    tries += 1\n"
              "    n += bool(llm.complete('You count.', f'Count from 1 to {tries % 5 + 3}.', 24).text)\n"
              "assert llm._local is None, 'fell back to a model of its own: the server went away'\n"
              "print(n)\n")
    try:
        out = subprocess.run([sys.executable, "-c", client], capture_output=True, text=True, env=env, timeout=180)
        assert out.returncode == 0, out.stderr[-2000:]
        assert int(out.stdout) >= 3
        assert server.poll() is None  # 16 s or more of completions: busy, not idle for 6 s
        server.wait(timeout=90)  # and idle afterwards: it exits by itself
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert not (model_dir / "serve-qwen2.5-coder-1.5b.json").exists()


@pytest.mark.slow
def test_a_server_stopped_mid_answer_exits_and_the_client_answers_with_its_own_model(tmp_path: Path) -> None:
    """`kill` (or the idle timeout) while a command waits on the served model: the server exits promptly,
    removing its announcement, and the command loads the model itself and still gets its answer."""
    import signal
    import time

    from rag.models.llm import activity

    model_dir = private_model_dir(tmp_path)
    env = {**os.environ, "RAG_MODEL_DIR": str(model_dir), "RAG_USE_SERVED_MODEL": "1"}
    server = subprocess.Popen([EXE, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    assert "serving" in server.stderr.readline()
    port = json.loads((model_dir / "serve-qwen2.5-coder-1.5b.json").read_text())["port"]
    client = ("from rag.config import Settings\n"
              "from rag.models.llm import LLM\n"
              "llm = LLM(Settings())\n"
              "assert llm._local is None, 'not the served model'\n"
              "c = llm.complete('You write long lists.', 'List the numbers from 1 to 200, one per line.', 400)\n"
              "print(llm._local is not None, len(c.text.split()))\n")
    started = [server]
    try:
        proc = subprocess.Popen([sys.executable, "-c", client], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        started.append(proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the served model is busy with the client's request
            a = activity(port)
            if a and a[1] > 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the client's request never reached the served model")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)  # exits promptly, mid-answer
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        own, words = out.split()
        assert own == "True" and int(words) > 20  # answered by a model of its own
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert not (model_dir / "serve-qwen2.5-coder-1.5b.json").exists()
