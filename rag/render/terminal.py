"""Text made safe for a terminal: the one rule every printer of article-derived text uses.

Stored text is never changed (citations index into it); only what is printed is. `safe` replaces, one
character for one space, what a terminal would act on instead of showing: C0 controls other than tab
and newline (ESC starts escape sequences, CR overwrites the line), DEL, C1 controls (U+0080-U+009F,
e.g. U+009B, a one-character CSI), and the bidirectional controls that reorder what is shown (U+202A-
U+202E embeddings and overrides, U+2066-U+2069 isolates, U+200E/U+200F/U+061C marks), plus U+2028/U+2029.
`safe_json` escapes the same characters as \\uXXXX inside an already-dumped JSON text: valid JSON whose
values are unchanged.

Not handled: characters a terminal shows but a reader may misread (homoglyphs, zero-width joiners).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """The text with terminal-active characters replaced by spaces (same length; see the module doc).

    >>> safe("red\\x1b[31m \\u202eexe.txt\\n")
    'red [31m  exe.txt\\n'
    """
    return _UNSAFE.sub(" ", text)


def safe_json(dumped: str) -> str:
    """A JSON text with the same characters written as \\\\uXXXX escapes (json.dumps already escapes C0).

    >>> safe_json('{"t": "a\\u202eb"}')
    '{"t": "a\\\\u202eb"}'
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)
