"""Prompt templates as files in prompts/: a front-matter line lists the placeholders, and
`## system` / `## user` headings split the messages. Placeholders are checked at load time against
what the code supplies, so a renamed placeholder fails loudly instead of sending a broken prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

# A source checkout (or an editable install) reads prompts/ at the top of the repo; a wheel carries the same
# files as rag/templates (pyproject.toml maps the one onto the other).
_SOURCE = Path(__file__).resolve().parent.parent / "prompts"
PROMPTS_DIR = _SOURCE if _SOURCE.is_dir() else Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str
    placeholders: frozenset[str]

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with placeholders filled; values are inserted verbatim (no format specs)."""
        missing = self.placeholders - values.keys()
        extra = values.keys() - self.placeholders
        if missing or extra:
            raise ConfigError(f"prompt {self.name}: missing {sorted(missing)}, unexpected {sorted(extra)}")

        def fill(t: str) -> str:
            return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), t)

        return fill(self.system), fill(self.user)

    @property
    def sha(self) -> str:
        import hashlib

        return hashlib.sha256((self.system + "\x00" + self.user).encode()).hexdigest()[:16]


def load_prompt(name: str, expected: set[str]) -> Prompt:
    """Load prompts/NAME.md and check that its placeholders are exactly `expected`."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.exists():
        raise ConfigError(f"prompt file {name}.md not found in {PROMPTS_DIR}")
    text = path.read_text(encoding="utf-8")
    m = re.match(r"---\nplaceholders: \[(.*?)\]\n---\n", text)
    if not m:
        raise ConfigError(f"{path}: must start with a front-matter line 'placeholders: [...]'")
    declared = {p.strip() for p in m.group(1).split(",") if p.strip()}
    body = text[m.end() :]
    sm = re.search(r"^## system\n(.*?)^## user\n(.*)\Z", body, flags=re.S | re.M)
    if not sm:
        raise ConfigError(f"{path}: needs '## system' and '## user' sections")
    system, user = sm.group(1).strip(), sm.group(2).strip()
    used = set(re.findall(r"\{(\w+)\}", system + user))
    if used != declared or declared != expected:
        raise ConfigError(
            f"{path}: placeholders used {sorted(used)}, declared {sorted(declared)}, code supplies {sorted(expected)}"
        )
    return Prompt(name, system, user, frozenset(declared))
