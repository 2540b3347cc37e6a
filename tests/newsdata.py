"""Shared test data for digests and briefs: the story index and a headless Chromium runner."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from rag.config import Settings
from rag.types import Citation, Passage

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "wikinews_stories_2005.jsonl"


# Another outlet's report of Syria's withdrawal, the same day as wikinews-5495, with a different troop count
# (wikinews-5495: "Syria has a total of 14,000 soldiers in the country.").
PLANTED_CONFLICT = {
    "id": "planted-conflict", "title": "Syrian troops pull back toward the Bekaa valley", "date": "2005-03-08",
    "source": "Other Outlet", "url": "https://example.org/bekaa",
    "text": "Syrian troops began pulling back from northern Lebanon toward the Bekaa valley on Tuesday. "
            "Syria has a total of 20,000 soldiers in the country, Lebanese officials said. "
            "Syrian President Bashar al-Assad announced the withdrawal of Syrian forces from Lebanon last Saturday.",
}


def _syndicated(a: dict[str, str]) -> dict[str, str]:
    """Another outlet's shorter version of an article: its first sentences under a new dateline, title and
    ending. Distinct enough to pass ingest's near-duplicate check (rag.ingest.dedup), same event."""
    import re

    first = " ".join(re.split(r"(?<=[.!?])\s+", a["text"])[:3])
    text = first + " Officials in Taipei condemned the vote and called it a threat to peace in the region."
    return {**a, "id": "syndicated-5805", "source": "Syndicated Press", "url": "https://example.org/china-law",
            "title": "China passes anti-secession law aimed at Taiwan", "text": "BEIJING (SP) - " + text}


def build_story_index(d: Path, embedder: object, settings: Settings) -> Settings:
    """An index of tests/data/wikinews_stories_2005.jsonl plus a syndicated copy, a planted conflicting
    report and an article with markup in its title."""
    from rag.ingest import ingest

    records = [json.loads(line) for line in DATA.read_text().splitlines()]
    extra = [_syndicated(next(r for r in records if r["id"] == "wikinews-5805")),
             {"id": "planted-html", "title": "Markup <script>alert(1)</script> & <b>bold</b> in a title",
              "date": "2005-03-16", "source": "Test", "url": "javascript:alert(2)",
              "text": "A planted article with <script>alert('x')</script> markup in its body tests escaping. "
                      "The digest page must show the markup as text and run nothing."},
             PLANTED_CONFLICT]
    src = d / "src"
    src.mkdir()
    (src / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records + extra) + "\n")
    ingest([src], settings, embedder=embedder)  # type: ignore[arg-type]
    return settings


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def copy_first(system: str, user: str) -> str:
    """A model (for FakeChat) that restates the first numbered line of a digest or brief prompt, "[n] text"
    or "[n] (date) text", citing it: its output depends on its input."""
    from rag.cite import strip_markers

    m = re.search(r"^\[(\d+)\] (?:\([\d-]+\) )?(.+)$", user, flags=re.M)
    assert m, user
    return f"{strip_markers(m.group(2))} [{m.group(1)}]"


def numbers_by_title(user: str) -> dict[str, str]:
    """The number of each article's first passage in an answer prompt (rag.answering.answer.format_passages): a
    '"title" (date):' line, then its passages '[n] text'."""
    out: dict[str, str] = {}
    title = None
    for line in user.splitlines():
        if line.startswith('"'):
            title = line.split('"')[1]
        elif line.startswith("[") and title is not None:
            out.setdefault(title, line[1 : line.index("]")])
    return out


def chromium(args: list[str], tmp_path: Path) -> str:
    assert CHROMIUM
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout




def supported_by(claim: str, cited: list[Citation]) -> bool:
    """The verifier's explicit checks accept the claim over its cited spans taken together (no judgement)."""
    from rag.cite import strip_markers
    from rag.verify import check_claim

    text = " ".join(c.text for c in cited)
    p = Passage("cited", cited[0].article_id, cited[0].title, cited[0].date, None, 0, len(text), text)
    return check_claim(strip_markers(claim), [p]).supported
