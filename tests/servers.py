"""Real servers on 127.0.0.1 for tests and benchmarks: a Chroma server (`chroma run`, shipped with chromadb)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def start_chroma(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `chroma run` (shipped with chromadb) on 127.0.0.1 and a free port, persisting under `data`;
    wait for its heartbeat. Returns the process and the URL; stop it with `stop_chroma`."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [str(exe), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited {proc.returncode}: {(data / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return proc, url
        except OSError:
            if time.monotonic() > deadline:
                stop_chroma(proc)
                raise RuntimeError("chroma run did not answer its heartbeat in 60 s") from None
            time.sleep(0.2)


def stop_chroma(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
