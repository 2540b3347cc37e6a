"""A small content-addressed JSON cache in a directory: `key -> object`, written atomically.

Keys are hashes of everything a result depends on (article contents, prompt, model), so an entry
never goes stale: a changed input is a different key. Nothing is ever invalidated in place; old
entries are only garbage (delete the directory to reclaim the space).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def key(*parts: object) -> str:
    """A stable hash of JSON-serialisable parts."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class JsonCache:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    def _path(self, k: str) -> Path:
        return self.dir / k[:2] / f"{k}.json"

    def get(self, k: str) -> Any | None:
        try:
            return json.loads(self._path(k).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing, or a torn/corrupt file: recompute
            return None

    def put(self, k: str, value: Any) -> None:
        path = self._path(k)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # a read-only index still gets its digest, just not cached
            pass
