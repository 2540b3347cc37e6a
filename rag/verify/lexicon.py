"""The verifier's data files, read once: aliases.toml (other names, legal forms, titles before names),
polarity.toml (negators, opposites, converses), modality.toml (words that make what follows possible, not done),
thresholds.toml (the coverage cut-offs). Each entry of those files
says why it is there."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.errors import ConfigError

HERE = Path(__file__).parent


def fold(text: str) -> str:
    """Lower case without accents or curly apostrophes: 'Erdoğan’s' -> "erdogan's"."""
    t = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(c for c in t if not unicodedata.combining(c)).lower()


def _read(name: str) -> dict[str, object]:
    path = HERE / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read the verifier's data file {path}: {e}") from e


@dataclass(frozen=True)
class Lexicon:
    groups: tuple[frozenset[str], ...]  # names of one thing
    capitals: tuple[frozenset[str], ...]  # capitals standing for governments (question names only)
    negators: frozenset[str]  # single words
    negator_phrases: tuple[str, ...]  # multi-word ("failed to")
    privative: frozenset[str]  # verbs whose object is gone afterwards ("lose", "drop"): see polarity.toml
    excepting: frozenset[str]  # negator phrases that negate their sentence's predicate ("except for"), not what follows
    opposites: dict[str, frozenset[str]]  # lemma -> its opposites
    converses: dict[str, frozenset[str]]  # lemma -> verbs that say the same with doer and done-to swapped
    prefixes: tuple[str, ...]  # negating prefixes ("un" + "like")
    unprefixed: frozenset[str]  # words that only look prefixed ("disguise" is not "dis" + "guise")
    legal_forms: frozenset[str]  # words a company's name may drop ("corporation", "asa")
    titles: frozenset[str]  # words before a person's name ("judge", "president")
    thresholds: dict[str, float]
    appeal: frozenset[str]  # checks whose failure the judgement's firm yes (`judge_appeal`) outweighs
    hedges: dict[str, str]  # lemma -> the use that counts ("modal", "adverb", "adjective", "verb-present")
    certain: frozenset[str]  # verbs after which a modal is no hedge ("could be seen")
    possibility: frozenset[str]  # words by which a claim says a possibility itself ("has the power to")


@cache
def lexicon() -> Lexicon:
    aliases, polarity, thresholds = _read("aliases.toml"), _read("polarity.toml"), _read("thresholds.toml")
    modality = _read("modality.toml")

    def groups(key: str, data: dict[str, object]) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(fold(n) for n in g["names"]) for g in data.get(key, []))  # type: ignore[attr-defined]

    words = [fold(w) for g in polarity.get("negator", []) for w in g["words"]]  # type: ignore[attr-defined]

    def pairs(key: str) -> dict[str, frozenset[str]]:  # each word of a pair -> the words paired with it
        out: dict[str, set[str]] = {}
        for g in polarity.get(key, []):  # type: ignore[attr-defined]
            a, b = (fold(x) for x in g["pair"])
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
        return {k: frozenset(v) for k, v in out.items()}
    return Lexicon(
        groups("group", aliases), groups("capital", aliases),
        frozenset(w for w in words if " " not in w), tuple(w for w in words if " " in w),
        frozenset(fold(w) for g in polarity.get("privative", []) for w in g["words"]),  # type: ignore[attr-defined]
        frozenset(fold(w) for g in polarity.get("negator", []) if g.get("negates") == "predicate"  # type: ignore[attr-defined]
                  for w in g["words"]),
        pairs("opposite"), pairs("converse"),
        tuple(fold(p) for g in polarity.get("prefix", []) for p in g["prefixes"]),  # type: ignore[attr-defined]
        frozenset(fold(w) for g in polarity.get("unprefixed", []) for w in g["words"]),  # type: ignore[attr-defined]
        frozenset(fold(w) for g in aliases.get("legal_form", []) for w in g["words"]),  # type: ignore[attr-defined]
        frozenset(fold(w) for g in aliases.get("title", []) for w in g["words"]),  # type: ignore[attr-defined]
        {k: float(v) for k, v in thresholds.items() if k != "appeal"},  # type: ignore[arg-type]
        frozenset(thresholds.get("appeal", [])),  # type: ignore[call-overload]
        {fold(w): str(g["pos"]) for g in modality.get("hedge", []) for w in g["words"]},  # type: ignore[attr-defined]
        frozenset(fold(w) for g in modality.get("certain", []) for w in g["words"]),  # type: ignore[attr-defined]
        frozenset(fold(w) for g in modality.get("possibility", []) for w in g["words"]),  # type: ignore[attr-defined]
    )
