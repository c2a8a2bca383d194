"""Characters that hide words from a pattern without changing what a reader sees: zero-width and
formatting characters, and Cyrillic and Greek letters that look Latin, upper and lower case. Used by the
name redactor's view (childguard.name_redaction); childguard.normalize keeps its own lower-case subset,
which the classifier was trained with."""

from __future__ import annotations

ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u180e"
ZERO_WIDTH = dict.fromkeys(map(ord, ZERO_WIDTH_CHARS))
# applied only inside words that also contain Latin letters, so Russian and Greek text stays as written
HOMOGLYPH_PAIRS = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j",
                   "ѕ": "s", "ԁ": "d", "һ": "h", "ο": "o", "α": "a", "ν": "v", "κ": "k", "ι": "i",
                   "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
                   "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Α": "A", "Β": "B", "Ε": "E",
                   "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T",
                   "Υ": "Y", "Χ": "X"}
