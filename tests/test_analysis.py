"""The analysis chain: tokenizer, normalizer, light stemmer, query stopwords."""

import pytest

from search import analysis, querylang, schema
from search.analysis import ANALYZER, EXACT_MARK
from search.arabic import normalize, other_stem, stem


def index_terms(text):
    return [t.text for t in ANALYZER(text) if not t.text.startswith(EXACT_MARK)]


# Real words from the seeds and what they must become. Words on one line share a stem.
STEM_TABLE = [
    ("والمقاومة", "مقاوم"), ("المقاومة", "مقاوم"), ("مقاومة", "مقاوم"),
    ("بالقدس", "قدس"), ("القدس", "قدس"), ("وبالقدس", "قدس"),
    ("للحركتين", "حرك"), ("الحركتين", "حرك"), ("حركة", "حرك"), ("لحركة", "حرك"), ("حركات", "حرك"),
    ("الفلسطينية", "فلسطين"), ("الفلسطيني", "فلسطين"), ("الفلسطينيين", "فلسطين"), ("فلسطين", "فلسطين"),
    ("المجتمعون", "مجتمع"),
    ("القســـــام", "قسام"), ("القسام", "قسام"),
    ("المـــستويات", "مستو"), ("المستويات", "مستو"),
    ("وسرايا", "سرايا"), ("سرايا", "سرايا"),
    ("والجهاد", "جهاد"), ("وللأسرى", "اسر"),
    ("الإسلامي", "اسلام"), ("الاسلامية", "اسلام"),
    ("حكومتها", "حكوم"), ("الحكومة", "حكوم"),
    ("بحضور", "حضور"),
    # a proclitic before a known three-letter word; verb plural and accusative endings
    ("وقال", "قال"), ("قالوا", "قال"), ("قال", "قال"), ("بمصر", "مصر"), ("وعددها", "عدد"),
    ("كانوا", "كان"), ("يوماً", "يوم"), ("هجوماً", "هجوم"), ("وزيراً", "وزير"), ("وزيرها", "وزير"),
    # hamza seats written either way
    ("مسؤول", "مسءول"), ("مسئول", "مسءول"), ("شؤون", "شءون"), ("شئون", "شءون"),
]


@pytest.mark.parametrize("word,expected", STEM_TABLE)
def test_stem_table(word, expected):
    assert stem(normalize(word)) == expected


@pytest.mark.parametrize("word", [
    "وسيكون",  # future verb: keeps its stem letters (Lucene would cut it to سيك)
    "شهداء", "الاستيطاني", "إسماعيل", "القاهرة",
])
def test_stem_keeps_enough_of_the_word(word):
    assert len(stem(normalize(word))) >= 4


@pytest.mark.parametrize("a,b", [
    ("وزير", "زير"),  # minister / pot
    ("كتائب", "تائب"),  # brigades / repentant
    ("فصائل", "صائل"),
    ("لبنان", "لبن"),  # Lebanon / milk
    ("شعبان", "شعب"),  # a name / people
    ("البحرين", "بحر"),  # Bahrain / sea
    ("قوانين", "قوان"),
    ("كانت", "انت"),  # was / you
    ("بعيد", "عيد"),  # far / feast
    ("فتحت", "تحت"),  # opened / under
    ("كامل", "امل"),  # complete / hope
    ("سوريا", "سور"),  # Syria / wall
])
def test_unrelated_words_stay_apart(a, b):
    assert stem(normalize(a)) != stem(normalize(b))


@pytest.mark.parametrize("variant,plain", [
    ("تَشْكِيلٌ", "تشكيل"), ("القســـــام", "القسام"), ("إسماعيل", "اسماعيل"),
    ("أحمد", "احمد"), ("آخر", "اخر"), ("ٱلله", "الله"), ("الأقصى", "الاقصي"),
    ("القاهرة", "القاهره"), ("ﻻ", "لا"), ("١٧٣", "173"), ("۱۷۳", "173"), ("یک", "يك"),
    ("الرحمٰن", "الرحمن"), ("٣٫٥", "3.5"), ("GAZA", "gaza"),
])
def test_normalize(variant, plain):
    assert normalize(variant) == plain


def test_tokenizer_never_cuts_at_diacritics_and_splits_on_arabic_punctuation():
    text = "«تشكِيلُ» الحكومةِ، هل تنجح؟ (حماس): \"الجهاد\" ؛ 5 ساعات و173 يوماً ال53 COVID-19"
    assert index_terms(text) == [
        "تشكيل", "حكوم", "هل", "تنجح", "حماس", "جهاد", "5", "ساع", "و", "173", "يوم",
        "ال", "53", "covid", "19"]


def test_offsets_point_at_the_original_surface_form():
    text = "كتائب القســـــام"
    token = [t for t in ANALYZER(text, chars=True) if t.text == "قسام"][0]
    assert text[token.startchar:token.endchar] == "القســـــام"


def test_exact_form_is_emitted_beside_the_stem_at_the_same_position():
    tokens = [(t.text, t.pos) for t in ANALYZER("والمقاومة حماس", positions=True)]
    assert tokens == [("مقاوم", 0), ("=والمقاومه", 0), ("حماس", 1)]


def test_stopwords_dropped_at_query_time_only():
    assert "في" in index_terms("حماس في القاهرة")
    query_terms = [t.text for t in ANALYZER("حماس في القاهرة", mode="query")]
    assert "في" not in query_terms and "حماس" in query_terms


def test_one_analyzer_object_for_index_and_query():
    fields = schema.make_schema()
    assert fields["title"].analyzer is analysis.ANALYZER
    assert fields["body"].analyzer is analysis.ANALYZER
    assert querylang.ANALYZER is analysis.ANALYZER


@pytest.mark.parametrize("with_article, bare", [
    ("الكرملين", "كرملين"), ("الكنيست", "كنيست"), ("الفيسبوك", "فيسبوك"), ("الليكود", "ليكود"),
])
def test_a_name_with_and_without_the_article_meet_through_the_other_reading(with_article, bare):
    # The bare name loses its first letter as if it were a proclitic; the article form does not.
    a, b = normalize(with_article), normalize(bare)
    assert stem(a) != stem(b)
    assert other_stem(a) == stem(b) and other_stem(b) == stem(a)


@pytest.mark.parametrize("word", ["الفصائل", "فصائل", "وزير", "الوزير", "حماس", "الاحتلال", "قال", "ا"])
def test_words_read_one_way_only_have_no_other_reading(word):
    assert other_stem(normalize(word)) is None


def test_token_at_a_time_analysis_is_the_chain_s(tmp_path):
    """The bulk build and the highlighter analyse one token at a time
    (ANALYZER.token_terms); the chain must give the same terms at the same positions."""
    from search.analysis import ANALYZER, TOKEN_PATTERN
    from search.paths import SEEDS_DIR

    texts = [p.read_text("utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))]
    texts.append("تشكِيل القســـــام إسماعيل الأقصى ﻻ ٣٫٥ 1,000 COVID-19 ـــ ً والمقاومة بالقدس للحركتين")
    for text in texts:
        chain = [(t.pos, t.text) for t in ANALYZER(text, positions=True, mode="index")]
        by_token = [(pos, term) for pos, token in enumerate(TOKEN_PATTERN.findall(text))
                    for term in ANALYZER.token_terms(token)]
        assert chain == by_token
