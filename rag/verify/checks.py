"""The explicit checks of a claim against an evidence window: each returns a `Check` whose `reason` says
what failed, in words a reader can act on. Pure functions over `Facts` (rag.verify.facts).

- names: every name of the claim, its first word included, occurs in the evidence (or its article's
  title), directly, as a demonym ("Syrian"/"Syria"), or as another name of its group in aliases.toml;
- numbers: every number of the claim, with its unit and magnitude, is one of the evidence's;
- dates: every date of the claim covers a date of the evidence, once the evidence's relative dates are
  resolved against its publication day ("in July 2007" over "last month" in an article of 4 August 2007);
- quotes: every quoted phrase occurs verbatim;
- polarity: the claim negates nothing the evidence affirms, and affirms nothing it negates, and uses no
  opposite ("rejected" over "approved") of the evidence's words;
- roles: who did what to whom agrees (not "B defeated A" over "A defeated B");
- modality: the claim states as done nothing its evidence gives only as possible or alleged (modality.toml);
- event: the claim speaks of the question's event, not of one of another year ("the 2006 election" for a question
  about "the March 2009 election").
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS

from rag.cite import calendar, content_words, normalize, weighted_words
from rag.stem import stem
from rag.verify.facts import SUPPORT_VERBS, Facts, Number, _doc, number_key
from rag.verify.facts import numbers as numbers_in
from rag.verify.lexicon import fold, lexicon

_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_DEMONYM_ENDINGS = ("", "s", "n", "an", "ian", "ese", "i", "ish", "ic", "y", "ans", "ns", "is", "ians")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str = ""
    contradicts: bool = False  # the evidence says otherwise (not merely: does not say it)
    undecided: bool = False  # words cannot decide (a verb that may be a synonym): the judgement decides
    ungrounded: bool = False  # the claim holds a name, figure or date the evidence does not give: no appeal


def _demonym(a: str, b: str) -> bool:
    """'syria'/'syrian', 'germany'/'german', 'canada'/'canadian': one is the other plus a demonym ending."""
    short, long_ = sorted((a, b), key=len)
    for base in (short, short.rstrip("aeiouy")):
        if len(base) >= 4 and long_.startswith(base) and long_[len(base):] in _DEMONYM_ENDINGS:
            return True
    return False


def _has_phrase(phrase: str, folded_text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", folded_text) is not None


def _acronym(word: str, folded_text: str) -> bool:
    """'wwe' for 'World Wrestling Entertainment' in the evidence (initials of consecutive words, small
    function words skipped)."""
    if not 2 <= len(word) <= 6 or not word.isalpha():
        return False
    words = [w for w in re.findall(r"[a-z]+", folded_text) if w not in ("of", "and", "the", "for", "on", "de")]
    initials = "".join(w[0] for w in words)
    return word in initials and any(
        "".join(w[0] for w in words[i : i + len(word)]) == word for i in range(len(words) - len(word) + 1))


def _grounded(phrase: list[str], words: set[str], folded_text: str, capitals: bool) -> bool:
    lex = lexicon()
    phrase = [w for w in phrase if w not in lex.legal_forms] or phrase  # "Statoil ASA" is "Statoil"
    joined = " ".join(phrase)
    groups = lex.groups + (lex.capitals if capitals else ())
    for g in groups:
        if (joined in g or any(w in g for w in phrase)) and any(_has_phrase(n, folded_text) for n in g):
            return True
    return all(w in words or any(_demonym(w, e) for e in words if e[:3] == w[:3]) or _acronym(w, folded_text)
               or _compound_in(w, words) for w in phrase)


def _compound_in(word: str, words: set[str]) -> bool:
    """A compound name whose parts the text writes apart: 'jd(u)-bjp' where it names the JD(U) and the BJP.

    >>> _compound_in("jd(u)-bjp", {"jd", "u", "bjp", "alliance"}), _compound_in("jd(u)-bjp", {"jd", "u"})
    (True, False)
    """
    parts = [p for p in re.split(r"[-.()/]", word) if p]
    return len(parts) > 1 and all(p in words for p in parts)


def _words(folded: str) -> set[str]:
    """The words of a folded text as written and without a possessive or the full stop closing a sentence
    ("commons." is also "commons")."""
    found = set(re.findall(r"[\w'.-]+", folded))
    return found | {w.removesuffix("'s").strip(".'") for w in found}


def mentions_name(name: str, text: str) -> bool:
    """The text names `name` (a name phrase as the question or claim writes it), directly or by another name of
    its group, a demonym or an acronym: 'General Motors' in a text saying 'GM'."""
    folded = fold(text)
    phrase = [w.removesuffix("'s").strip(".'") for w in fold(name).split()]
    words = _words(folded)
    words |= {p for w in words for p in re.split(r"[-.]", w) if p}
    return _grounded(phrase, words, folded, capitals=True) or _acronym_of(phrase, folded)


def _acronym_of(phrase: list[str], folded_text: str) -> bool:
    """'general motors' where the text writes 'gm'; 'north american oil sands' where it writes 'naosc' (the
    initials of the name with its legal form, "Corporation")."""
    initials = "".join(w[0] for w in phrase if w not in ("of", "and", "the"))
    forms = "".join(sorted({w[0] for w in lexicon().legal_forms if len(w) > 4}))  # spelled out, not "AG"
    return len(initials) >= 2 and re.search(rf"(?<![\w]){re.escape(initials)}[{forms}]?(?![\w])",
                                             folded_text) is not None


def _by_surname(phrase: list[str], words: set[str], passage: str) -> bool:
    """A person the window names by surname only, whom the passage names in full, and no one else of that
    surname: "Morgan Tsvangirai" for "Tsvangirai is now the Prime Minister", in an article that opened with
    "opposition leader Morgan Tsvangirai" (and names no other capitalised word before "Tsvangirai")."""
    if len(phrase) < 2 or phrase[-1] not in words or not _has_phrase(" ".join(phrase), fold(passage)):
        return False
    before = {fold(m.group(1)) for m in re.finditer(r"\b([A-Z][\w'.-]*)\s+(?=(\S+))", passage)
              if fold(m.group(2)).removesuffix("'s").strip(".,;:'\"") == phrase[-1]}
    return before <= set(phrase)


def _untitled(phrase: list[str]) -> list[str]:
    """The name without the titles before it ('judge lowe' -> 'lowe'); [] when it has none or is all titles.

    >>> _untitled(["prime", "minister", "gordon", "brown"]), _untitled(["lowe"]), _untitled(["president"])
    (['gordon', 'brown'], [], [])
    """
    titles = lexicon().titles
    n = next((i for i, w in enumerate(phrase) if w.rstrip(".") not in titles), len(phrase))
    return phrase[n:] if 0 < n < len(phrase) else []


def names(claim: Facts, ev: Facts, title: str = "", passage: str = "", asked: set[str] | None = None,
          article: str = "") -> Check:
    """Every name phrase of the claim is grounded in the evidence window (or the article's title). A name
    the question itself uses (`asked`: its words), which an answer repeats as the question's premise, may be
    grounded anywhere in the article (`article`; the passage when not given), capitals standing for governments
    included. A title before a name ("Judge Lowe") may be anywhere in the article, the name after it in the window."""
    text = fold(f"{ev.text} {title}")
    words = ev.name_words | {fold(w).removesuffix("'s").strip(".'") for w in re.findall(r"[\w'.-]+", title)}
    asked = asked or set()
    whole = fold(article or passage)
    whole_words = _words(whole) | words
    for phrase in claim.names:
        if _grounded(phrase, words, text, capitals=False):
            continue
        if all(w in asked for w in phrase) and (_grounded(phrase, whole_words, f"{whole} {text}", capitals=True)
                                                or _acronym_of(phrase, f"{whole} {text}")):
            continue
        if _by_surname(phrase, words, passage):
            continue
        if (rest := _untitled(phrase)) and _grounded(rest, words, text, capitals=False) \
                and all(w in whole_words for w in phrase[: len(phrase) - len(rest)]):
            continue  # "Judge Lowe": Lowe in the window, a judge in the article (aliases.toml `title`)
        return Check("names", False, f"the evidence does not name {' '.join(phrase).title()!r}", ungrounded=True)
    return Check("names", True)


def _matches(c: Number, evidence: Sequence[Number]) -> bool:
    for e in evidence:
        if c.percent != e.percent:
            continue
        if c.key() == e.key():
            return True
        digits = len(re.sub(r"\D", "", f"{c.value:.6g}".split("e")[0]).strip("0"))
        if digits >= 2 and float(f"{e.value:.{digits}g}") == float(f"{c.value:.{digits}g}"):
            return True  # the claim rounds the evidence's number ("1.2 million" for 1,213,000)
    return False


@lru_cache(maxsize=64)
def premise_figures(question: str, article: str) -> tuple[Number, ...]:
    """The question's own figures that the article gives somewhere (cached: every window of every passage of
    every sentence asks it again)."""
    if not question:
        return ()
    found = numbers_in(article)
    return tuple(n for n in numbers_in(question) if _matches(n, found))


_NOT_UNIT = frozenset({"percent", "cent"})  # a share, whatever it is a share of
_PARTITIVE = re.compile(r"\s+(?:\w+\s+)?of(?:\s+the)?\s+", re.I)  # "29 of the 30", "two out of three"


_CURRENCY = re.compile(r"[$€£¥]\s*$")
_CURRENCY_AFTER = re.compile(r"\s+(?:dollars|euros|pounds|yen|yuan|rupees|francs|pesos|rubles|roubles)\b", re.I)


def _money(n: Number, text: str) -> bool:
    """The number is a sum of money ("CA$19.2 billion", "$67", "5 million euros"): a sum and a count ("two of the
    largest companies") cannot be swapped for each other."""
    return bool(_CURRENCY.search(text[max(0, n.at - 3) : n.at]) or n.text[:1] in "$€£¥"
                or _CURRENCY_AFTER.match(text, n.at + len(n.text)))


def _unit(n: Number, text: str) -> str:
    """What a number counts, as the noun after it says ("two workers": worker), or "" if no noun follows it
    ("72 to 13", "30 injured": a swap of these is still a swap).

    >>> from rag.verify.facts import numbers as found
    >>> t = "Two workers died 65 kilometres away, and 72 to 13 voted; 30 injured by a 200-year-old tree."
    >>> [_unit(n, t) for n in found(t)]
    ['worker', 'kilometre', '', '', '', 'year']
    >>> [_unit(n, t) for t in ["It fell for three consecutive quarters."] for n in found(t)]
    ['quarter']
    """
    end = n.at + len(n.text)
    after = [t for t in _doc(text) if t.idx >= end]
    token = next((t for t in after if t.is_alpha), None)
    if token is None or text[end:token.idx].strip(" )-"):
        return ""
    k = first = after.index(token)
    while after[k].pos_ == "ADJ" and k - first < 2 and k + 1 < len(after) and after[k + 1].is_alpha:
        k += 1  # "three consecutive quarters": what is counted is the quarters
    token = after[k]
    if token.pos_ != "NOUN" or token.lower_ in _NOT_UNIT:
        return ""
    return str(token.lemma_.lower())


def numbers(claim: Facts, ev: Facts, premise: Sequence[Number] = ()) -> Check:
    """Every number of the claim is the evidence's; and two numbers of one kind (two counts, two shares)
    come in the evidence's order, so that figures are not swapped between the things they belong to.
    `premise`: the question's own figures that the article gives; the claim may repeat them from anywhere in it
    ("Channel 4", "the 22 Boeing 787 Dreamliners" restated from the question), as it may the question's names."""
    missing = [n.text for n in claim.numbers if not _matches(n, ev.numbers) and not _matches(n, premise)]
    if missing:
        same_kind = any(e.percent == n.percent for n in claim.numbers for e in ev.numbers)
        return Check("numbers", False, f"the evidence does not give {', '.join(repr(m) for m in missing)}",
                     contradicts=same_kind, ungrounded=True)
    first: dict[tuple[float, bool], Number] = {}
    for e in ev.numbers:
        first.setdefault(e.key(), e)
    # a figure given twice, in the claim or the evidence, has no one place to compare ("the 3 GB plan ... 2 of
    # the 3 GB"); nor have a part and its whole ("29 of the 30 stocks" for "Of the 30 stocks, 29")
    given = Counter(n.key() for n in claim.numbers) + Counter(e.key() for e in ev.numbers)
    for i, a in enumerate(claim.numbers):
        for b in claim.numbers[i + 1:]:
            fa, fb = first.get(a.key()), first.get(b.key())
            # only figures the evidence gives in one sentence (a summary may reorder its sentences), and of one
            # thing: "two workers" and "65 kilometres" cannot be swapped
            if a.percent == b.percent and a.key() != b.key() and fa and fb and fa.sent == fb.sent \
                    and _in_order(ev.text, fb, fa) != _in_order(claim.text, b, a) \
                    and given[a.key()] == given[b.key()] == 2 \
                    and not _PARTITIVE.fullmatch(claim.text[a.at + len(a.text):b.at]) \
                    and not ((ua := _unit(a, claim.text)) and (ub := _unit(b, claim.text)) and ua != ub) \
                    and _money(a, claim.text) == _money(b, claim.text):
                return Check("numbers", False, f"the evidence gives {b.text!r} before {a.text!r}: the figures are "
                             "swapped between what they belong to", contradicts=True)
    return Check("numbers", True)


def _in_order(text: str, x: Number, y: Number) -> bool:
    """The text puts figure x before figure y, reading "to B from A" as "from A to B" ("slash the districts to
    twenty from 46": 46 first), so that a change is compared in the order it goes."""
    earlier, later = (x, y) if (x.sent, x.at) < (y.sent, y.at) else (y, x)
    turned = re.search(rf"\bto\s+{re.escape(earlier.text)}(?:\s+[\w'-]+){{0,3}}?\s+from\s+{re.escape(later.text)}",
                       text) is not None
    return (earlier is x) != turned


def _figure_dated(claim: Facts, parts: list[Facts]) -> bool:
    """A month or year is written within 20 characters of one of the claim's figures in a sentence of the
    window ("a negative 0.5% in 2005"; not "11,277 votes in a seat Labour had held since 1922")."""
    for f in parts:
        figures = [m for m in f.numbers if any(_matches(n, [m]) for n in claim.numbers)]
        if any(abs(e.start - m.at) <= 20 and (e.hi - e.lo).days >= 27 for m in figures for e in f.dates):
            return True
    return False


def dates(claim: Facts, ev: Facts, published: str | None, question: str = "", parts: list[Facts] | None = None) -> Check:
    """Each date of the claim must hold a date of the evidence (same or more specific); the publication
    day counts for claims of a month or a year ("in March 2005" from an article of 4 March 2005). A date
    phrase the claim repeats from the question ("reported yesterday") was resolved with the question and
    chose the evidence; it is not checked again against the article's own day. Absolute dates always are.
    A month or year written next to one of the claim's figures in the window (`parts`, each sentence's facts)
    dates that figure ("savings fell to a negative 0.5% in 2005" is not the rate of 2006, though the article
    is of 2006; "11,277 votes in a seat Labour had held since 1922" does not date the votes)."""
    from datetime import date

    pub = None
    with contextlib.suppress(ValueError):
        pub = date.fromisoformat(published or "")
    asked = fold(question)
    for c in claim.dates:
        if question and fold(c.phrase) in asked and not re.search(r"\d", c.phrase):
            continue  # "yesterday", "on Monday" as the question put it; "2006" or "3 May" must match
        if any(e.within(c) for e in ev.dates):
            continue
        # "the by-election of July 2008", as asked (unless the window dates the claim's figure itself)
        repeated = bool(question) and fold(c.phrase) in asked and not _figure_dated(claim, parts or [])
        if pub and (c.hi - c.lo).days >= 27 and c.lo <= pub <= c.hi and (
                repeated or not any((e.hi - e.lo).days >= 27 for e in ev.dates)):
            continue  # the article's own day dates it, unless the window names a month or year of its own
            # (a month or year the question gave chose the article: the window's history does not undo that)
        if repeated and c.lo == c.hi == pub and not ev.dates:
            continue  # "on 7 July 2005", as asked, of an article of that day whose window dates nothing itself
        said = ", ".join(f"{e.phrase!r} ({e.lo.isoformat()}{'' if e.lo == e.hi else '..' + e.hi.isoformat()})"
                         for e in ev.dates[:3])
        return Check("dates", False, f"the evidence does not date it {c.phrase!r}"
                     + (f"; it says {said}" if said else ""), contradicts=bool(ev.dates), ungrounded=True)
    return Check("dates", True)


def _verbatim(quote: str, evidence: str) -> bool:
    """The quote is in the evidence word for word, its closing punctuation and the case of its first letter aside
    ("...is back." quoted from "The era ... is back, and Democrats ...")."""
    q = " ".join(quote.split()).rstrip(".,;:!? ")
    return not q or q in evidence or q[0].swapcase() + q[1:] in evidence


def quotes(claim: str, evidence: str) -> Check:
    ev = " ".join(normalize(evidence).split())
    missing = [q for q in _QUOTE.findall(normalize(claim)) if not _verbatim(q, ev)]
    if missing:
        return Check("quotes", False, f"the quote {missing[0]!r} is not verbatim in the evidence")
    return Check("quotes", True)


def _prefix_opposite(word: str, others: set[str]) -> str | None:
    """'incorrect' for 'correct', 'unlike' for 'like' (and back): a negating prefix of polarity.toml."""
    lex = lexicon()
    if word in lex.unprefixed:
        return None
    for pre in lex.prefixes:
        if pre + word in others and pre + word not in lex.unprefixed:
            return pre + word
        if word.startswith(pre) and len(word) - len(pre) >= 4 and word[len(pre):] in others:
            return word[len(pre):]
    return None


_LIGHT = frozenset({"be", "have", "do"})


# Verbs that report or link rather than assert an action: a claim may use any of them for another.
_REPORTING = frozenset({"say", "tell", "state", "announce", "report", "add", "note", "claim", "describe", "call",
                        "confirm", "explain"})
LIGHT_VERBS = _REPORTING | SUPPORT_VERBS | {"be", "become"}


def negated_nearby(claim: Facts, window: Facts, others: list[Facts]) -> Check:
    """A word of the claim that its window lacks is negated by another sentence of the passage ("a number of
    flights were delayed" checked on "The airport was briefly affected", next to "No flights were delayed")."""
    lacking = claim.lemmas - window.lemmas - _LIGHT
    for f in others:
        for anchors in f.negations:
            shared = anchors & lacking
            if shared and not any(anchors & n for n in claim.negations):
                return Check("polarity", False, f"the passage negates {min(shared)!r} next to this evidence; the "
                             "claim does not", contradicts=True)
    return Check("polarity", True)


def polarity(claim: Facts, ev: Facts, asked: Facts | None = None) -> Check:
    """The claim negates nothing the evidence affirms, affirms nothing it negates, and uses no opposite of
    the evidence's words (polarity.toml), nor a word the evidence has with a negating prefix. A negation the
    question itself makes (`asked`: "Which aide rejected the proposal?"), repeated by the claim over evidence
    in other words ("dismissed the proposal"), is left to the judgement."""
    lex = lexicon()

    def negated(anchors: frozenset[str], negations: list[frozenset[str]]) -> bool:  # on a content word: "was not
        # clear" does not negate "was responsible"; compared by stem, as one negation may be parsed onto a verb on one
        # side and its noun on the other ("did not expect conditions to improve": "did not anticipate improvement")
        mine = {stem(w) for w in anchors - _LIGHT}
        return any(mine & {stem(w) for w in n - _LIGHT} for n in negations)

    def restated(anchors: frozenset[str], other: Facts) -> bool:  # by an opposite: "were absent" for "neither
        return any(lex.opposites.get(w, frozenset()) & other.lemmas for w in anchors)  # was present"

    undecided = None
    ev_stems = {stem(w) for w in ev.lemmas}
    for anchors in claim.negations:
        shared = frozenset(w for w in anchors - _LIGHT if w in ev.lemmas or stem(w) in ev_stems)
        if shared and shared <= ev.deprived and not anchors & lex.privative:  # taken away there: "lose service"
            continue  # for "without service" (but "did not leave the party" keeps it: not "quit the party")
        content = {w for w in anchors - _LIGHT if w.isalpha() and w not in lex.negators and w not in STOP_WORDS}
        if content and not shared and not restated(anchors, ev) and undecided is None:
            # "the senators refused to forgive it" over a window that never speaks of forgiving: not said there
            undecided = Check("polarity", False, f"the claim negates {min(content)!r}, which the evidence does not "
                              "mention", undecided=True)
        if shared and not negated(anchors, ev.negations) and not restated(anchors, ev):
            if asked is not None and negated(anchors, asked.negations):
                return Check("polarity", False, f"the claim negates {min(shared)!r} as the question does; the "
                             "evidence says it in other words", undecided=True)
            return Check("polarity", False, f"the claim negates {min(shared)!r}; the evidence does not", contradicts=True)
    for anchors in ev.negations:
        shared = (anchors & claim.lemmas) - _LIGHT
        if shared and shared <= claim.deprived and not anchors & lex.privative:  # "drops the green stars" for "no
            continue  # longer has the green stars"
        if shared and not negated(anchors, claim.negations) and not restated(anchors, claim):
            return Check("polarity", False, f"the evidence negates {min(shared)!r}; the claim does not", contradicts=True)
    lacking = claim.lemmas - ev.lemmas - _LIGHT - _REPORTING  # "noted" for "said" restates nothing negated
    # "The union took part in the strike" over "The union was not involved in the strike": what the claim says in
    # place of a negated word is the judgement's, unless an opposite below says the opposite
    if lacking and not claim.negations:
        for anchors in ev.negations:
            if (words := anchors - _LIGHT) and not words & claim.lemmas:
                undecided = Check("polarity", False, f"the evidence negates {min(words)!r}, which the claim may "
                                  f"restate as {min(lacking)!r}", undecided=True)
                break
    denied = set().union(*ev.negations, *claim.negations)  # an opposite under a negation says the same
    # the claim says both ends of a pair itself ("having started in April, the inspection ended on Friday" over "had
    # begun in April, and concluded on Friday"): the evidence's "begin" is the claim's "started", not its "ended"
    sides = {w for w in claim.lemmas if lex.opposites.get(w)}
    for word in sorted(claim.lemmas - ev.lemmas):
        opposite = (lex.opposites.get(word, frozenset()) & ev.lemmas) or {_prefix_opposite(word, ev.lemmas)}
        opposite = {o for o in opposite if o is not None and not any(
            lex.opposites.get(o, frozenset()) & lex.opposites.get(x, frozenset()) for x in sides - {word})}
        if opposite and not (opposite | {word}) & denied:
            return Check("polarity", False, f"the claim says {word!r} where the evidence says {min(opposite)!r}",  # type: ignore[type-var]
                         contradicts=True)
    return undecided or Check("polarity", True)


def modality(claim: Facts, ev: Facts, asked: Facts | None = None) -> Check:
    """The claim states as done nothing its evidence says only under a hedge of modality.toml: of the claim's own
    words and figures (not the question's, not "be", "have", "do" or a verb of saying), none is one the evidence
    gives only as possible ("The court imposed a fine of $4,000" over "they face a fine of $4,000"; "the recorders
    were damaged" over "it is possible the recorders were damaged"). A claim that hedges itself ("could", "faces",
    "if", any modal) or answers a question that does ("What penalty could they face?") is not held to it.

    >>> from rag.verify.facts import claim_facts as f
    >>> modality(f("The court imposed a fine of $4,000.", None), f("They face a fine of $4,000 at most.", None)).reason
    "the evidence gives 'fine' only as possible ('face'); the claim states it as done"
    >>> modality(f("They face a fine of $4,000.", None), f("They face a fine of $4,000 at most.", None)).ok
    True
    >>> modality(f("Smith won 54% of the vote.", None), f("Smith won 54% of the vote and may face a runoff.", None)).ok
    True
    """
    if claim.hedging or (asked is not None and asked.hedging):
        return Check("modality", True)
    given: set[str] = set()
    if asked is not None:
        given = asked.lemmas | {k for n in asked.numbers if (k := number_key(n.text))}
    own = (claim.lemmas | {k for n in claim.numbers if (k := number_key(n.text))}) - given - _LIGHT - _REPORTING
    said = sorted((w for w in own if w in ev.hedged), key=lambda w: (w.startswith("#"), w))
    if said:
        return Check("modality", False, f"the evidence gives {said[0].lstrip('#')!r} only as possible "
                     f"({ev.hedged[said[0]]!r}); the claim states it as done")
    return Check("modality", True)


def event(claim: Facts, asked: Facts | None) -> Check:
    """A noun the question dates by a year ("the March 2009 Queensland state election") is not given another year,
    and none of the question's, by the claim ("a 6 per cent swing at the 2006 election"): that is another event of
    the kind, which may be true and still does not answer. A claim that names the question's year for it as well
    ("lost the 2004 election and won the 2008 election") is not held to it.

    >>> from rag.verify.facts import claim_facts as f
    >>> q = f("What share of the vote did Waters win at the March 2009 state election?", None)
    >>> event(f("Waters won a 6 per cent swing at the 2006 election.", None), q).reason
    'the question asks about the election of 2009; the claim speaks of the election of 2006'
    >>> event(f("Waters won 11 per cent at the 2009 election, up from 6 at the 2006 election.", None), q).ok
    True
    """
    if asked is None:
        return Check("event", True)
    for noun, years in sorted(claim.years.items()):
        if (want := asked.years.get(noun)) and not years & want:
            return Check("event", False, f"the question asks about the {noun} of {', '.join(sorted(want))}; the claim "
                         f"speaks of the {noun} of {', '.join(sorted(years))}")
    return Check("event", True)


def _parts(words: set[str]) -> set[str]:
    """The words, and the parts of at least three letters of a hyphenated one ("jd(u)-bjp": jd(u), bjp)."""
    return words | {p for w in words if "-" in w for p in w.split("-") if len(p) >= 3}


def _same(a: str | None, b: str | None, initials: bool = False) -> bool:
    """Two name phrases name the same thing: they share a word (plural or demonym forms included), or, with
    `initials`, one is the other's initials ("gm", "general motors")."""
    if not a or not b:
        return False
    titles = lexicon().titles  # "president hamid karzai" and "president barack obama" share only a title
    wa, wb = set(a.split()), set(b.split())
    wa, wb = (wa - titles) or wa, (wb - titles) or wb
    return (bool(_parts(wa) & _parts(wb)) or any(_demonym(x, y) for x in wa for y in wb if x[:3] == y[:3])
            or (initials and (any(_acronym(x, b) for x in wa) or any(_acronym(y, a) for y in wb))))


def _spelled_out(acronym: str | None, phrase: str | None, text: str) -> bool:
    """`acronym` is the initials of `phrase` as `text` writes it in full from there: 'ltte' for 'liberation
    tigers', the parse's doer of "The Liberation Tigers of Tamil Eelam (LTTE) bombed...".

    >>> _spelled_out("ltte", "liberation tigers", "The Liberation Tigers of Tamil Eelam (LTTE) bombed it.")
    True
    >>> _spelled_out("ltte", "liberation tigers", "The Liberation Tigers bombed it.")
    False
    """
    if not acronym or not phrase or not 2 <= len(acronym) <= 6 or not acronym.isalpha():
        return False
    folded = fold(text)
    start = folded.find(phrase)
    if start < 0:
        return False
    words = [w for w in re.findall(r"[a-z]+", folded[start:]) if w not in ("of", "and", "the", "for", "on", "de")]
    return "".join(w[0] for w in words[: len(acronym)]) == acronym


def _same_head(a: str | None, b: str | None) -> bool:
    """Two name phrases end in the same name ("lizza", "reporter lizza"; not "greece", "greece member")."""
    return bool(a and b) and a.split()[-1] == b.split()[-1]  # type: ignore[union-attr]


def roles(claim: Facts, ev: Facts, parts: Sequence[Facts] = ()) -> Check:
    """Who did what: for a verb the claim and the evidence share, the claim's doer and done-to are not the
    evidence's the other way round, nor another named doer in place of the claim's, unless every figure of the
    claim is the claim's doer's in the window's sentences (`parts`: "gives Hugo Chavez the victory with 61.35%"
    beside "Manuel Rosales received 38.39%" supports "Chavez received 61.35%")."""
    lex = lexicon()
    for agent, verb, patient in claim.triples:
        theirs = [(a, p) for a, v, p in ev.triples if v == verb]
        if not theirs:
            continue
        # a side the evidence leaves unnamed ("he demanded Lizza reveal...") fits any name, but not the name
        # the evidence puts on the other side ("Lizza demanded that Scaramucci..."); a passive subject may be
        # the claim's subject of the same verb ("Subway is ranked second", "Subway ranks second")
        if any((_same(agent, a) or not agent or not a) and (_same(patient, p) or not patient or not p)
               and not (_same_head(agent, p) and (verb, p) not in ev.passives) and not _same_head(patient, a)
               for a, p in theirs):
            continue
        for a, p in theirs:
            if (_same(agent, p) and agent) or (_same(patient, a) and patient):
                return Check("roles", False, f"the evidence has {a or 'someone'} {verb} {p or 'something'}, "
                             "not the other way round", contradicts=True)
        if any(_same(agent, a) and _same(agent, b) and o == o2 for a, o in claim.supported for b, o2 in ev.supported):
            continue  # "Yellowikis made a loss" over "Yellowikis had a loss": one statement in other support verbs
        if agent and all(a and not _same(agent, a, initials=True) and not _spelled_out(agent, a, ev.text)
                         and not _spelled_out(a, agent, claim.text) for a, _ in theirs):  # GM did it: General Motors did
            if claim.numbers and all(any(_same(agent, _owner_of(m, f), initials=True) for f in parts for m in f.numbers
                                         if _matches(n, [m])) for n in claim.numbers):
                continue
            return Check("roles", False, f"the evidence says {theirs[0][0]!r} did {verb!r}, not {agent!r}",
                         contradicts=True)
        # each passive subject of the verb is done-to ("Blagojevich, along with John Harris, were arrested")
        if patient and all(p and not _same(patient, p) for _, p in theirs) \
                and not any(v == verb and _same(patient, x) for v, x in ev.passives):
            return Check("roles", False, f"the evidence has {verb!r} done to {theirs[0][1]!r}, not {patient!r}",
                         contradicts=True)
    stems = {stem(w) for w in ev.lemmas}
    for agent, verb, _ in claim.triples:  # "Schumer won the seat" where the evidence has Schumer ask, not win
        if (agent and verb not in LIGHT_VERBS and (agent, verb) not in claim.controlled
                and stem(verb) not in stems):  # "ruled" is in "issued a ruling"
            did = sorted({v for a, v, _ in ev.triples if _same(agent, a) and v not in LIGHT_VERBS
                          and (a, v) not in ev.controlled})  # a doer lent by the governing verb
            # ("inspectors are permitted to go") is compared on that verb only, not counted as another deed
            if did and verb not in did:  # (a stop word's lemma, "use", is not among the lemmas)
                return Check("roles", False, f"the evidence has {agent!r} {', '.join(did[:2])}, not {verb!r}",
                             undecided=True)
    for agent, verb, patient in claim.triples:  # "Samsung overtook Sony Ericsson" over "Sony Ericsson surpassed
        if not (agent and patient) or _same(agent, patient):  # Samsung": the doer and the done-to the other way
            continue  # round, whatever the verb (one of polarity.toml's converses may turn them: "beat", "lose to")
        for a, v, p in ev.triples:
            if a and p and _same(agent, p) and _same(patient, a) and not _same(agent, a) and not _same(patient, p) \
                    and not any(_same(agent, x) and _same(patient, y) for x, _, y in ev.triples if x and y) \
                    and v not in lex.converses.get(verb, frozenset()):
                return Check("roles", False, f"the evidence has {a!r} {v} {p!r}, not the other way round",
                             contradicts=True)
    crossed = _crossed_link(claim, ev)
    if crossed:
        return Check("roles", False, crossed, contradicts=True)
    for name, of in claim.attached:  # "Morenatt of AFP" where the evidence has "Morenatt of AP"
        theirs_of = [o for n, o in ev.attached if _same(name, n)]
        if theirs_of and not any(_same(of, o) for o in theirs_of):
            return Check("roles", False, f"the evidence has {name!r} of {theirs_of[0]!r}, not of {of!r}",
                         contradicts=True)
    return Check("roles", True)


def _named_in(phrase: list[str], fs: list[Facts]) -> bool:
    """These sentences name the phrase, by any of its names ("Washington" for the US)."""
    words = set().union(*(f.name_words for f in fs))
    return _grounded(phrase, words, fold(" ".join(f.text for f in fs)), capitals=True)


def owners(claim: Facts, parts: list[Facts]) -> Check:
    """Whose figure it is: a number of the claim that the window gives only in sentences naming other things,
    while the claim's name is not in the window at all (only the article names it), is left to the judgement
    ("British Airways and Korean Air received fines of US$300 million each" for "Qantas paid US$300 million").
    Sentences with no name (a pronoun: "It paid $61 million") decide nothing."""
    mine = [n for n in claim.names if not _named_in(n, parts)]  # named by the article, not in this window
    if not mine:
        return Check("roles", True)
    for n in claim.numbers:
        holders = [f for f in parts if _matches(n, f.numbers)]
        if holders and all(f.names and not any(_named_in(c, [f]) for c in claim.names) for f in holders):
            return Check("roles", False, f"the evidence gives {n.text!r} with {' '.join(holders[0].names[0])!r}, "
                         f"not with {' '.join(mine[0])!r}", undecided=True)
    return Check("roles", True)


def _name_positions(facts: Facts) -> list[tuple[int, str]]:
    """(offset, name) of every place the text writes one of its names (found by the name's first word)."""
    text = fold(facts.text)
    return sorted({(m.start(), " ".join(n)) for n in facts.names
                   for m in re.finditer(rf"\b{re.escape(n[0])}\b", text)})


def _owner_of(number: Number, facts: Facts) -> str | None:
    """The name written last before a number in its sentence ("The House passed it by 72 votes": house)."""
    before = [name for at, name in _name_positions(facts) if at < number.at]
    return before[-1] if before else None


def crossed_figures(claim: Facts, parts: list[Facts]) -> Check:
    """Figures swapped between two named things across sentences: the claim gives n with A and m with B,
    the evidence's sentences give n only with B and m only with A ("The House passed the bill by 72 votes
    to 13, and the Senate by 272 to 152" over "The House ... 272 in favor ... The Senate was 72 in favor")."""
    owned = [(n, o) for n in claim.numbers if (o := _owner_of(n, claim))]

    def only_with(n: Number, name: str, other: str) -> bool:  # every sentence giving n names `name`, not `other`
        holders = [f for f in parts if _matches(n, f.numbers)]
        return bool(holders) and all(_named_in(name.split(), [f]) and not _named_in(other.split(), [f])
                                     for f in holders)

    for i, (n, a) in enumerate(owned):
        for m, b in owned[i + 1:]:
            if not _same(a, b) and n.key() != m.key() and only_with(n, b, a) and only_with(m, a, b):
                return Check("roles", False, f"the evidence gives {n.text!r} with {b!r} and {m.text!r} with "
                             f"{a!r}: the figures are swapped", contradicts=True)
    return Check("roles", True)


def crossed_clauses(claim: Facts, parts: list[Facts]) -> Check:
    """What the claim says of one name, the evidence says of another, and the other way round: the words
    following name A in the claim are those of a sentence naming only B, and B's words those of a sentence
    naming only A ("Egypt has said it is investigating the shootings, while Israel has said little" over
    "Israel has said it is investigating the shootings. Egypt has said little so far.")."""
    text = fold(claim.text)
    at: list[tuple[int, str]] = []
    for pos, name in _name_positions(claim):  # where each name is first written
        if all(name != seen for _, seen in at):
            at.append((pos, name))
    segments = []
    for i, (pos, name) in enumerate(at):
        end = at[i + 1][0] if i + 1 < len(at) else len(text)
        words = content_words(text[pos:end]) - set(name_word for n in claim.names for name_word in n)
        if len(words) >= 2:
            segments.append((name, words))
    sents = [(content_words(fold(f.text)), f) for f in parts]

    def said_of(words: set[str]) -> Facts | None:  # the sentence holding most of these words (and most of them)
        score, best = max(((len(words & w), f) for w, f in sents), key=lambda x: x[0], default=(0, None))
        return best if score >= 2 and score >= 0.6 * len(words) else None

    for i, (a, wa) in enumerate(segments):
        for b, wb in segments[i + 1:]:
            if _same(a, b):
                continue
            fa, fb = said_of(wa), said_of(wb)
            if fa is not None and fb is not None and fa is not fb \
                    and _named_in(b.split(), [fa]) and not _named_in(a.split(), [fa]) \
                    and _named_in(a.split(), [fb]) and not _named_in(b.split(), [fb]):
                return Check("roles", False, f"the evidence says of {b!r} what the claim says of {a!r}, and the "
                             "other way round", contradicts=True)
    return Check("roles", True)


def credited_elsewhere(claim: Facts, parts: list[Facts]) -> Check:
    """The claim gives its doer what the evidence says of someone else: the sentence of the window holding
    most of the claim's words has another named doer and does not name the claim's, who is named only in
    another sentence ("Luttig, 55, has been a judge on the 3rd Circuit since 1990" over "Alito, age 55, has
    served as a judge on the 3rd Circuit since 1990. Luttig, age 51, has served..."). A sentence that names
    no doer ("He said that...") decides nothing: it may speak of the claim's."""
    agent = next((a for a, _, _ in claim.triples if a), None)
    if agent is None or len(parts) < 2:
        return Check("roles", True)
    mine = agent.split()
    words = content_words(fold(claim.text)) - {w for n in claim.names for w in n}
    scores = [len(words & content_words(fold(f.text))) for f in parts]
    top = max(range(len(parts)), key=lambda i: scores[i])
    named = [i for i, f in enumerate(parts) if _named_in(mine, [f])]
    if scores[top] < max(2, 0.6 * len(words)) or top in named or not named or max(scores[i] for i in named) >= scores[top]:
        return Check("roles", True)
    others = [a for a, _, _ in parts[top].triples if a and not _same(agent, a, initials=True)]
    if not others:
        return Check("roles", True)
    return Check("roles", False, f"the evidence says this of {others[0]!r}, and names {agent!r} in another sentence",
                 contradicts=True)


def _crossed_link(claim: Facts, ev: Facts) -> str | None:
    """A pair of names the claim ties together that the evidence ties crosswise: the claim has A-B and C-D,
    the evidence A-D and C-B, or A-C' where C' is another name of the claim ("Michelson for the NDP and
    Khaki for the Greens" over "Khaki (NDP), Michelson (Green)")."""
    names = [" ".join(n) for n in claim.names]

    def linked(a: str, b: str, links: list[tuple[str, str]]) -> bool:  # or named in one phrase: "The U.N.'s
        # official, Jan Egeland," ties Egeland to the U.N.
        return any((_same(a, x) and _same(b, y)) or (_same(a, y) and _same(b, x))
                   or (_same(a, x) and _same(b, x)) or (_same(a, y) and _same(b, y)) for x, y in links)

    for a, b in claim.links:
        if linked(a, b, ev.links):
            continue
        for other in names:
            if _same(other, a) or _same(other, b):
                continue
            # the evidence ties a to another name of the claim, and b to someone else too: a name that is not part
            # of b itself ("University" of "Research Chair at the University of British Columbia"), nor a, nor one
            # the claim ties to b as well
            partners = [y if _same(b, x) else x for x, y in ev.links if _same(b, x) != _same(b, y)]
            if linked(a, other, ev.links) and any(not _same(a, p) and not linked(b, p, claim.links) for p in partners):
                return f"the evidence ties {a!r} to {other!r}, not to {b!r}"
    return None


def coverage(claim: str, evidence: str, question: str = "", verified_numbers: int = 0) -> float:
    """Weighted share of the claim's content words found in the evidence, 0..1 (names and numbers weigh
    twice); words the question holds are left out when the claim has words of its own. Numbers and calendar
    words are left to their own checks: `verified_numbers` numbers that passed theirs count as found ("The
    MDC got 16 seats" answers its question with the 16)."""
    dates = calendar(claim)
    words = {w: x for w, x in weighted_words(claim).items() if not w[:1].isdigit() and w not in dates}
    if not words and not verified_numbers:
        return 1.0
    ev = content_words(evidence)
    asked = content_words(question)
    new = {w: x for w, x in words.items() if w not in asked} or words
    found = sum(x for w, x in new.items() if w in ev) + 2.0 * verified_numbers
    return found / (sum(new.values()) + 2.0 * verified_numbers)
