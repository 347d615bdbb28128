"""The form a line is sent to the voice in: what it renders clearly the first time.

The displayed text (timeline, captions) never changes; only what the voice is given
does, and the speech cache keys on that, so a rule here re-speaks only the lines it
changes. Found by transcribing the voices with an open-vocabulary recogniser
(``tests/speech/test_heard.py``): short texts without closing punctuation are rushed
and clipped ("Right 8" was heard as "Friday", "out" as "How?"), and a side word runs
into its number unless a pause separates them.

* A count ("8", "Right 8") is said as a count is called out: the side word, a comma,
  the number, an exclamation mark: "Right, 8!". Over the counts Right/Left 1-10 (40
  words), the recogniser missed 22 % of the words sent as "Right 8.", 7.5 % as
  "Right, 8." and 2.5 % as "Right, 8!" (the voice releases the final t of "eight").
* Any other line gets closing punctuation if it has none ("out" -> "Out.") and a
  capital first letter.
"""

from __future__ import annotations

import re

COUNT = re.compile(r"(?:(?P<word>[^\W\d_]+) )?(?P<number>\d+)")
"""A rep count as the ``rep`` template renders it: "8", "Right 8"."""
CLOSING = ".!?…"
TRAILING = "\"')]}\u00bb\u201d\u2019"
"""Closing quotes and brackets may follow the punctuation: 'Say "now."'"""


def spoken_form(text: str) -> str:
    """``text`` as the voice should get it (before the lexicon)."""
    line = " ".join(text.split())
    if not line:
        return line
    count = COUNT.fullmatch(line)
    if count:
        word = count["word"]
        return f"{word[0].upper()}{word[1:]}, {count['number']}!" if word else f"{line}!"
    if line.rstrip(TRAILING)[-1:] not in CLOSING:
        line += "."
    return line[0].upper() + line[1:]
