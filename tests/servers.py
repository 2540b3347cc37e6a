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


PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin")


def postgres_bin(name: str) -> str | None:
    """Where PostgreSQL's `initdb` / `postgres` is (Debian's versioned bin dir, else PATH)."""
    for d in PG_BIN_DIRS:
        if (Path(d) / name).exists():
            return str(Path(d) / name)
    return shutil.which(name)


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` system user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start_postgres() -> tuple[subprocess.Popen[bytes], str, Path]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 and a free port (initdb into a temp dir, trust auth,
    superuser `rag`, fsync off: test data only). Returns the process, the URL of its `postgres` database and
    the data dir; stop it with `stop_postgres`."""
    import tempfile

    initdb, postgres = postgres_bin("initdb"), postgres_bin("postgres")
    if not initdb or not postgres:
        raise RuntimeError(f"PostgreSQL's initdb/postgres not found (looked in {', '.join(PG_BIN_DIRS)} and PATH)")
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    out = subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", "rag", "--auth=trust", "--no-locale",
                                            "-E", "UTF8"]), capture_output=True, timeout=120)
    if out.returncode:
        raise RuntimeError(f"initdb failed: {out.stderr.decode()[-2000:]}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(root / "server.log", "wb")  # noqa: SIM115 -- the server writes to it until stopped
    proc = subprocess.Popen(
        _as_postgres_user([postgres, "-D", str(data), "-p", str(port), "-k", str(root), "-c", "listen_addresses=127.0.0.1",
                           "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                           "-c", "max_connections=200"]),
        stdout=log, stderr=subprocess.STDOUT)
    url = f"postgresql://rag@127.0.0.1:{port}/postgres"
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited {proc.returncode}: {(root / 'server.log').read_text()[-2000:]}")
        try:
            with psycopg.connect(url, connect_timeout=2):
                return proc, url, root
        except psycopg.Error:
            if time.monotonic() > deadline:
                stop_postgres(proc, root)
                raise RuntimeError("postgres did not accept connections in 60 s") from None
            time.sleep(0.2)


def stop_postgres(proc: subprocess.Popen[bytes], root: Path) -> None:
    proc.terminate()  # SIGTERM: smart shutdown; runuser passes it on
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(root, ignore_errors=True)
