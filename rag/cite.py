"""Citation parsing and verification: pure functions, no model calls.

A generated answer is trusted only sentence by sentence, after checking:
- every `[n]` names a passage that was in the prompt (others are dropped);
- every quoted phrase occurs verbatim in a cited passage;
- the sentence is supported by the cited passage: its content words and all of its numbers occur in
  one to two consecutive sentences of the passage (`support`), and every name it uses occurs in the
  passage (`ungrounded_names`). When the cited passage does not
  support it but another context passage does, the citation is moved there (the check, not the
  model, decides what is cited). A sentence no passage supports is dropped.
Each surviving citation is narrowed to the supporting sentence(s): offsets into the stored article.

Not handled: paraphrase with no shared words (such a sentence is dropped as unsupported, which errs
on the side of the reader), negation (a sentence that negates a passage's words still "matches").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from rag.chunk import sentences
from rag.timeframe import MONTHS, WEEKDAYS
from rag.types import Citation, Passage

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*\d|\d")
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "this", "that", "these", "those", "it", "its", "it's", "he", "she", "they", "them", "his", "her", "their", "we", "our", "you", "your", "i", "me", "my", "not", "no", "than", "then", "there", "here", "which", "who", "whom", "whose", "what", "when", "where", "why", "how", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "also", "said", "says", "say", "about", "after", "before", "over", "under", "into", "onto", "out", "up", "down", "more", "most", "other", "some", "such", "only", "own", "same", "so", "too", "very", "just", "any", "each", "both", "few", "all", "nor", "per", "via", "while", "during", "between", "against", "through", "upon", "according", "told", "yes"]
)
# Calendar words are capitalised but name no one: the question's dates are resolved by the date filter
# (rag.timeframe), and a passage says "today" where the question says "on 4 March".
CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS)
# Other names for what a passage may call otherwise, as stems (see _stem): short forms news text spells
# out, and capitals standing for their governments ("the plan Washington presented" over a passage saying
# "the United States presented"). An alias grounds only a name the question itself uses: the model may
# repeat the question's words, never bring in a name of its own that the cited passage lacks. (No
# Islamabad: its stem is Islam's.)
ALIASES = {"us": {"unite", "ameri"}, "u.s": {"unite", "ameri"}, "usa": {"unite", "ameri"},
           "uk": {"unite", "brita", "briti"}, "un": {"unite"}, "eu": {"europ"},
           "washi": {"unite", "ameri", "us", "u.s"}, "mosco": {"russi", "kreml"}, "kreml": {"russi", "mosco"},
           "kyiv": {"ukrai", "kiev"}, "kiev": {"ukrai", "kyiv"}, "beiji": {"china", "chine"},
           "londo": {"brita", "briti", "uk"}, "pari": {"franc", "frenc"}, "berli": {"germa"},
           "bruss": {"europ", "eu"}, "tehra": {"iran"}, "tokyo": {"japan"}, "seoul": {"korea"},
           "pyong": {"korea"}, "jerus": {"israe"}, "damas": {"syria"}, "beiru": {"leban"}, "baghd": {"iraq"},
           "kabul": {"afgha"}, "ankar": {"turke", "turki"}, "delhi": {"india"},
           "taipe": {"taiwa"}, "cairo": {"egypt"}, "riyad": {"saudi"}, "ottaw": {"canad"}, "canbe": {"austr"}}
SUPPORT_MIN = 0.6  # share of the sentence's new content words found in the passage


def normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def _stem(w: str) -> str:
    w = w.lower().strip("'’-")
    if w.replace(",", "").replace(".", "").isdigit():
        return w.replace(",", "").rstrip(".")
    return w[:5] if len(w) > 5 else w.rstrip("s") or w


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(normalize(text)) if w.lower() not in STOPWORDS}


def numbers(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"\d[\d,.]*\d|\d", text)}


def strip_markers(sentence: str) -> str:
    return MARKER.sub("", sentence).strip()


def parse_markers(sentence: str) -> list[int]:
    out: list[int] = []
    for m in MARKER.finditer(sentence):
        out.extend(int(x) for x in re.split(r"\s*[,;]\s*", m.group(1)))
    return out


def _weight(w: str, raw: str) -> float:
    # Names and numbers carry the facts a reader checks; plain words weigh half as much.
    return 2.0 if raw[:1].isupper() or raw[:1].isdigit() else 1.0


def calendar(text: str) -> set[str]:
    """Stems of the month and weekday names in `text` (capitalised: "may" the verb is not one). Like
    numbers, a claim's dates must all be in its evidence."""
    return {_stem(w) for w in _WORD.findall(normalize(text)) if _is_calendar(w)}


def _is_calendar(word: str) -> bool:
    return word[:1].isupper() and word.lower().rstrip(".") in CALENDAR


def weighted_words(text: str) -> dict[str, float]:
    """Content-word stems of `text` with their weight (names and numbers 2, other words 1)."""
    words: dict[str, float] = {}
    for raw in _WORD.findall(normalize(text)):
        if raw.lower() not in STOPWORDS:
            stem = _stem(raw)
            words[stem] = max(words.get(stem, 0.0), _weight(stem, raw))
    return words


def support(claim: str, evidence: str, question: str = "") -> float:
    """Weighted share of the claim's content words found in the evidence, 0..1; 0 if a number, month or
    weekday of the claim is missing.

    Words the question already holds are left out when the answer has words of its own, so
    "The talks were held in Geneva" is judged on "held" and, twice as heavily, on the name "Geneva".
    """
    words = weighted_words(claim)
    if not words:
        return 0.0
    ev = content_words(evidence)
    if not numbers(claim) <= ev | numbers(evidence) or not calendar(claim) <= ev | calendar(evidence):
        return 0.0
    asked = content_words(question)
    new = {w: x for w, x in words.items() if w not in asked} or words
    return sum(x for w, x in new.items() if w in ev) / sum(new.values())


def names(text: str, question: str = "") -> set[str]:
    """Stems of the capitalised words (names) of a claim; its first word counts only when the question
    has it too, since any sentence starts with a capital ("Yes", "Officials")."""
    raw = [w for w in _WORD.findall(normalize(text))
           if w[:1].isupper() and w.lower() not in STOPWORDS and not _is_calendar(w)]
    first = _WORD.findall(normalize(text))[:1]
    asked = content_words(question)
    return {_stem(w) for i, w in enumerate(raw) if not (first and w == first[0] and i == 0) or _stem(w) in asked}


def mentioned(name: str, seen: set[str]) -> bool:
    """The name's stem, or one of its ALIASES, is among the content words `seen`.

    >>> mentioned("washi", content_words("The United States presented a plan")), mentioned("putin", set())
    (True, False)
    """
    return name in seen or bool(ALIASES.get(name, set()) & seen)


def ungrounded_names(claim: str, passage: Passage, question: str = "") -> set[str]:
    """Names in the claim that the passage (its title and text) never mentions: "Putin said ..." cited to
    a passage without Putin is not supported, however many of its other words match. A name the question
    itself uses is grounded by its alias too ("the plan Washington presented" in the question and the
    answer, "the United States presented" in the passage)."""
    seen = content_words(passage.title + " " + passage.text)
    asked = content_words(question)
    return {n for n in names(claim, question) - seen if not (n in asked and mentioned(n, seen))}


def missing_quotes(sentence: str, evidence: str) -> list[str]:
    """Quoted phrases of the sentence that do not occur verbatim in the evidence."""
    ev = " ".join(normalize(evidence).split())
    return [q for q in _QUOTE.findall(normalize(sentence)) if " ".join(q.split()) not in ev]


@dataclass
class Support:
    passage: Passage
    start: int  # offsets into the article
    end: int
    score: float


def dateline(iso: str | None) -> str:
    """A publication date as words a claim may use: "2005-03-04" -> "Friday 4 March 2005".

    >>> dateline("2005-03-04"), dateline(None), dateline("2005")
    ('Friday 4 March 2005', '', '')
    """
    try:
        d = date.fromisoformat(iso or "")
    except ValueError:
        return ""
    return f"{d:%A} {d.day} {d:%B %Y}"


def best_support(claim: str, passage: Passage, question: str = "") -> Support:
    """The one or two consecutive sentences of the passage that best support the claim. The passage's
    publication date counts as evidence with each of them: an article says "today" where the answer
    says "on 4 March 2005", and a reader sees that date with the citation."""
    spans = sentences(passage.text) or [(0, len(passage.text))]
    when = dateline(passage.date)
    if ungrounded_names(claim, passage, question):
        return Support(passage, passage.start, passage.end, 0.0)
    pairs = [(spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1)]
    wanted = content_words(claim) | content_words(question)
    best, best_key = Support(passage, passage.start, passage.end, 0.0), (0.0, 0)
    for s, e in spans + pairs:
        text = passage.text[s:e]
        score = 0.0 if missing_quotes(claim, text) else support(claim, f"{text} {when}", question)
        # At equal support the sentence that also shares the question's words is the better citation;
        # two sentences are cited only when together they support more than any one alone.
        key = (round(score, 6), len(wanted & content_words(text)) if (s, e) in spans else -1)
        if key > best_key:
            best, best_key = Support(passage, passage.start + s, passage.start + e, score), key
    return best


@dataclass
class Verified:
    answer: str
    citations: list[Citation]
    dropped: list[str] = field(default_factory=list)


def verify(
    answer: str,
    context: list[Passage],
    question: str = "",
    min_support: float = SUPPORT_MIN,
    extra: Sequence[Passage] = (),
) -> Verified:
    """Keep only supported sentences, each cited by the narrowed span that supports it (module doc).

    `extra` passages (e.g. the whole articles behind sentence-sized context passages) have no number
    the model could cite; they are searched, after the context, only for a sentence whose named
    passages do not support it."""
    kept: list[str] = []
    dropped: list[str] = []
    cites: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    for s, e in sentences(answer.strip()):
        raw = answer.strip()[s:e]
        claim = strip_markers(raw)
        if not claim or not content_words(claim):
            continue
        named = [n for n in parse_markers(raw) if 1 <= n <= len(context)]
        candidates = [context[n - 1] for n in named]
        chosen = [sup for p in candidates if (sup := best_support(claim, p, question)).score >= min_support]
        if not chosen:  # the model cited the wrong passage, or none: let the check find the support
            scored = sorted((best_support(claim, p, question) for p in [*context, *extra]), key=lambda x: -x.score)
            chosen = scored[:1] if scored and scored[0].score >= min_support else []
        if not chosen:
            dropped.append(claim)
            continue
        marks = []
        for sup in chosen:
            key = (sup.passage.article_id, sup.start, sup.end)
            if key not in cites:
                cites[key] = len(citations) + 1
                p = sup.passage
                text = p.text[sup.start - p.start : sup.end - p.start]
                citations.append(Citation(cites[key], p.article_id, p.title, p.date, p.url, sup.start, sup.end, text))
            marks.append(f"[{cites[key]}]")
        body = claim if claim[-1] in ".!?\"'”" else claim + "."
        if body[-1] in ".!?":
            kept.append(body[:-1] + " " + "".join(marks) + body[-1])
        else:
            kept.append(body + " " + "".join(marks))
    return Verified(" ".join(kept), citations, dropped)
