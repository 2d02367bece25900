"""Arabic word normalization and a light, conservative stemmer.

Both work on one word at a time and are memoized: news vocabulary is Zipfian, so
after a few thousand documents almost every call is a dictionary lookup.

The stemmer belongs to the Light10 family (Larkey, Ballesteros & Connell 2002;
Lucene's ArabicStemmer) but is stricter: every rule says how much of the word
must remain, and a small table of known stems keeps names and common words from
being cut into something else (فلسطين must not become فلسط, كتائب not تائب).
All rules are the tables below; the functions only apply them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pyarabic.araby as araby

# --- normalization -------------------------------------------------------

#: Letter folds applied after PyArabic's own normalizers.
LETTER_FOLDS = str.maketrans(
    {
        "ى": "ي",  # alef maqsura -> yeh (الأقصى = الاقصي)
        "ة": "ه",  # teh marbuta -> heh (القاهرة = القاهره)
        "ؤ": "ء",  # hamza seats vary by writer: مسؤول = مسئول, شؤون = شئون
        "ئ": "ء",
        "ی": "ي",  # Persian yeh
        "ۍ": "ي",
        "ې": "ي",
        "ک": "ك",  # Persian/Urdu keheh
        "ڪ": "ك",
        "ھ": "ه",  # Urdu heh doachashmee
        "ە": "ه",
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": "",  # Arabic thousands separator
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_DIACRITIC = re.compile("[" + "".join(araby.DIACRITICS) + "]")


#: Distinct words whose normalized form and stem are remembered. Word frequencies are
#: Zipfian, so 100,000 cover nearly every token; the bound keeps a long-running
#: server's memory flat (about 20 MB per cache when full).
CACHE_WORDS = 100_000


@lru_cache(maxsize=CACHE_WORDS)
def normalize(word: str) -> str:
    """Fold one token to its search form: no marks, no tatweel, one alef, ي, ه, ASCII digits."""
    if word.isascii():
        return word.lower()
    word = unicodedata.normalize("NFKC", word)  # presentation forms, ﻻ and friends
    if _DIACRITIC.search(word):  # (PyArabic removes them one mark at a time: only when there are some)
        word = araby.strip_diacritics(word)  # harakat, shadda, sukun, tanwin, superscript alef, Quranic marks
    word = araby.strip_tatweel(word)
    word = araby.normalize_ligature(word)
    word = word.translate(LETTER_FOLDS)  # before normalize_alef, which would turn ى into ا
    if araby.ALEFAT_PATTERN.search(word):
        word = araby.normalize_alef(word)  # أ إ آ ٱ -> ا
    return word.lower()


def is_arabic(word: str) -> bool:
    return bool(_ARABIC_LETTER.search(word))


# --- light stemming --------------------------------------------------------

ARTICLE = "ال"
#: Article and its compounds, longest first: (prefix, letters that must remain).
ARTICLE_PREFIXES = (
    ("وبال", 2), ("فبال", 2), ("وكال", 2), ("فكال", 2), ("ولل", 2), ("فلل", 2),
    ("وال", 2), ("فال", 2), ("بال", 2), ("كال", 2), ("لل", 2), ("ال", 2),
)

#: Single-letter proclitics (and, so, with, like, for), stripped at most twice
#: (وب، فل، ول …) and only when at least this many letters remain.
PROCLITICS = "وفبكل"
PROCLITIC_MIN_REST = 4

#: Suffixes, longest first: (suffix, letters that must remain). A word loses at
#: most two of them (الفلسطينيين -> فلسطيني -> فلسطين). The ت-forms take the taa
#: marbuta with the pronoun or dual ending, so حكومتها and الحكومة share حكوم.
SUFFIXES = (
    ("تهما", 3), ("تكما", 3),
    ("هما", 3), ("كما", 3), ("تها", 3), ("تهم", 3), ("تهن", 3), ("تنا", 3), ("تكم", 3),
    ("تين", 3), ("تان", 3),
    ("ات", 3), ("ون", 4), ("ين", 4), ("ان", 5), ("يه", 3),
    ("ها", 3), ("هم", 3), ("هن", 3), ("كم", 3), ("كن", 3), ("نا", 3), ("ته", 3), ("تي", 3),
    ("وا", 3),  # past-tense plural: كانوا، قالوا
    ("ه", 3), ("ي", 3),
    ("ا", 3),  # accusative alef: يوما، هجوما، وزيرا (not after ي: سوريا، حاليا)
)
MAX_SUFFIXES = 2

#: Endings that stay on a known stem: فلسطيني، الفلسطينية، فلسطينيون … -> فلسطين.
KNOWN_STEM_ENDINGS = ("", "ي", "يه", "يين", "يون", "يان", "يات", "ه", "ا")


def load_word_list(name: str) -> frozenset[str]:
    """Words of ``search/data/<name>``, normalized; ``#`` starts a comment."""
    text = resources.files("search.data").joinpath(name).read_text("utf-8")
    words = (w for line in text.splitlines() for w in line.split("#", 1)[0].split())
    return frozenset(normalize(w) for w in words)


#: Names and words whose first or last letters look like affixes but are not.
KNOWN_STEMS = load_word_list("known_stems.txt")
#: Three-letter words a proclitic may be stripped down to (وقال -> قال).
SHORT_WORDS = load_word_list("short_words.txt")
_KNOWN_BY_LENGTH = sorted({len(s) for s in KNOWN_STEMS}, reverse=True)


def _known_stem(word: str) -> str | None:
    """The known stem ``word`` is made of (stem + a nisba/plural ending), if any."""
    for size in _KNOWN_BY_LENGTH:
        if size <= len(word) and word[:size] in KNOWN_STEMS and word[size:] in KNOWN_STEM_ENDINGS:
            return word[:size]
    return None


def _strip_article(word: str) -> str:
    for prefix, rest in ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= rest:
            return word[len(prefix):]
    return word


def _strip_proclitics(word: str) -> str:
    """Drop up to two single-letter proclitics (و ف ب ك ل) when what remains is
    long enough (four letters) or a known short word (وقال -> قال)."""
    for _ in range(2):
        rest = word[1:]
        if word[:1] not in PROCLITICS or _known_stem(word) is not None:
            break
        if len(rest) < PROCLITIC_MIN_REST and _strip_suffixes(rest) not in SHORT_WORDS:
            break
        word = rest
        stripped = _strip_article(word)
        if stripped != word:
            return stripped
    return word


def _broken_plural_en(word: str) -> bool:
    """True for فعاعيل plurals (قوانين، ملايين، مضامين): their ين is part of the stem."""
    return len(word) >= 5 and word[-4] == "ا"


#: SUFFIXES by length, longest first (the order the table lists them in): the first
#: suffix a word ends with is the longest one of the table it ends with.
_SUFFIXES_BY_SIZE = tuple((size, {s: rest for s, rest in SUFFIXES if len(s) == size})
                          for size in sorted({len(s) for s, _ in SUFFIXES}, reverse=True))


def _strip_suffixes(word: str) -> str:
    for _ in range(MAX_SUFFIXES):
        for size, rules in _SUFFIXES_BY_SIZE:
            suffix = word[-size:]
            rest = rules.get(suffix)
            if rest is not None and len(word) - size >= rest:
                if suffix in ("ين", "ون") and _broken_plural_en(word):
                    continue
                if suffix == "ا" and word.endswith("يا"):
                    continue
                if suffix == "ان" and word.endswith("ستان"):
                    continue
                word = word[:-size]
                break
        else:
            return word
        known = _known_stem(word)
        if known:
            return known
    return word


@lru_cache(maxsize=CACHE_WORDS)
def stem(word: str) -> str:
    """Light stem of one *normalized* word; non-Arabic words come back unchanged."""
    if len(word) < 3 or not is_arabic(word):
        return word
    known = _known_stem(word)
    if known:
        return known
    core = _strip_article(word)
    if core == word:
        plain = _strip_suffixes(word)
        if plain in SHORT_WORDS or plain in KNOWN_STEMS:  # كانوا is كان + وا, not ك + انوا
            return plain
        core = _strip_proclitics(word)
        if core == word:  # no clitic: the suffixes were all there was to strip
            return plain
    known = _known_stem(core)
    if known:
        return known
    return _strip_suffixes(core)


def other_stem(word: str) -> str | None:
    """The stem the same name gets on the other path through the stemmer, or None.

    A word's first letter may be a proclitic (و ف ب ك ل) or part of the word; without a
    dictionary the stemmer cannot always tell. After the article it never strips one
    (الكرملين -> كرمل), but a bare word of five letters or more loses it (كرملين -> رملين),
    so the two spellings of one name can get two stems. The query side searches both:
    for a word with the article, the stem of its bare form; for a bare word, the stem it
    would have after the article. Common words are protected by the known-stem table
    and get None here."""
    core = _strip_article(word)
    if len(core) <= PROCLITIC_MIN_REST or not is_arabic(core):  # too short to lose a letter
        return None
    other = stem(core) if core != word else stem(ARTICLE + word)
    return other if other != stem(word) else None
