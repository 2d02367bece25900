"""Array matching (search/matching.py over search/codec.py's postings) against the
implementation it replaced: term at a time over Whoosh's own postings and matchers,
on an index Whoosh's own writer built in its own W3 format from the same articles.
Same documents, same BM25 scores, document by document."""

from __future__ import annotations

import json

import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec

from search.engine import Engine
from search.indexer import build_index, delete_documents, document_fields
from search.ingest import Document, read_documents
from search.matching import Deadline, match
from search.paths import SEEDS_DIR
from search.querylang import compile_query
from search.ranking import B, K1, WEIGHTING
from search.schema import make_schema
from search.stories import StoryFinder
from search.vocabulary import typo_tolerance
from tests.conftest import archive_records, build_small_index, record

NO_HURRY = 60  # seconds: these tests check results, not the time limit
#: One of each kind of query: words (OR), phrase, negation, prefix, title only, a
#: typo (spelling variants), a name read two ways (dis_max), sources.
QUERIES = ["حماس", "حماس الجهاد", "القسام والمقاومة في غزة", "وفد حماس القاهرة -بيروت",
           '"المكتب السياسي" حماس', '"لقاء الحركتين في القاهرة"', "القاهرة OR بيروت", "كلمةغيرموجودة حماس",
           "-حماس", "وحماس OR بالنخالة", "الفلسطين*", "فلسط* -الأسواق", "عنوان:موجز", 'title:"لقاء الحركتين"',
           "الفلسطينبة", "ارتفاع الاسعار الفلسطينبة", "الباسلة وحماس", "-مصدر:al-riyadh الأسواق",
           '"الأسواق الفلسطينية" -"تراجع الصادرات"']


class Reference:
    """The term-at-a-time matcher this project used before array postings: each posting
    read through Whoosh's matcher interface into a dict; phrases scored by Whoosh."""

    def __init__(self, searcher):
        self.searcher = searcher
        reader = searcher.reader()
        self.norms = {}
        for field in ("title", "body"):
            average = searcher.avg_field_length(field) or 1
            self.norms[field] = [K1 * (1 - B + B * (reader.doc_field_length(d, field, 1) or 1) / average)
                                 for d in range(reader.doc_count_all())]

    def term(self, term: wq.Term, into: dict) -> None:
        reader = self.searcher.reader()
        if (term.fieldname, term.text) not in reader:
            return
        postings = reader.postings(term.fieldname, term.text)
        factor = term.boost * self.searcher.idf(term.fieldname, term.text) * (K1 + 1)
        norms = self.norms[term.fieldname]
        while postings.is_active():
            docnum, tf = postings.id(), postings.weight()
            into[docnum] = into.get(docnum, 0.0) + factor * tf / (tf + norms[docnum])
            postings.next()

    def scores(self, q: wq.Query) -> dict:
        if isinstance(q, wq.Term):
            out: dict = {}
            self.term(q, out)
            return out
        if isinstance(q, wq.Prefix):
            return self.best(self.scores(wq.Term(q.fieldname, t, boost=q.boost))
                             for t in self.expansions(q.fieldname, q.text))
        if isinstance(q, wq.DisjunctionMax):
            return self.best(self.scores(sub) for sub in q.subqueries)
        if isinstance(q, wq.Or) and all(not isinstance(s, wq.Phrase) for s in q.subqueries):
            out = {}
            for sub in q.subqueries:
                for docnum, score in self.scores(sub).items():
                    out[docnum] = out.get(docnum, 0.0) + score
            return out
        return {hit.docnum: hit.score for hit in self.searcher.search(q, limit=None)}

    def expansions(self, field: str, prefix: str) -> list[str]:
        import heapq
        found = [(info.doc_frequency(), term.decode("utf-8"))
                 for _, (term, info) in zip(range(5000), self.searcher.reader().iter_prefix(field, prefix))]
        return [text for _, text in heapq.nlargest(64, found)]

    @staticmethod
    def best(alternatives) -> dict:
        out: dict = {}
        for scores in alternatives:
            for docnum, score in scores.items():
                if score > out.get(docnum, 0.0):
                    out[docnum] = score
        return out


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """The archive fixture indexed twice: by Bahth (array postings, bulk build) and by
    Whoosh's own writer in Whoosh's own format."""
    directory = tmp_path_factory.mktemp("twins")
    ours = build_small_index(directory, archive_records())
    corpus = directory / "articles.jsonl"
    (directory / "w3").mkdir()
    theirs = whoosh_index.create_in(str(directory / "w3"), make_schema())
    writer = theirs.writer(codec=W3Codec(), compound=False)
    stories = StoryFinder()
    for item in read_documents([corpus]):
        if isinstance(item, Document):
            writer.add_document(**document_fields(item, stories))
    writer.commit()
    return ours, theirs.searcher(weighting=WEIGHTING)


@pytest.mark.parametrize("q", QUERIES)
def test_same_documents_and_scores_as_the_term_at_a_time_matcher(twins, q):
    engine, searcher = twins
    view = engine._view()
    reference = Reference(searcher)
    compiled = compile_query(q, variants=typo_tolerance(view))
    found = match(view, compiled.groups, compiled.negatives, None, Deadline(NO_HURRY))
    expected: dict = {}
    covered: dict = {}
    for group in compiled.groups:
        for docnum, score in reference.scores(group).items():
            expected[docnum] = expected.get(docnum, 0.0) + score
            covered[docnum] = covered.get(docnum, 0) + 1
    excluded = {d for n in compiled.negatives for d in reference.scores(n)}
    if not compiled.groups:
        expected = {d: 0.0 for d in range(searcher.doc_count_all())}
    expected = {d: s for d, s in expected.items() if d not in excluded}
    # Document numbers of the two indexes differ: compare by article id.
    ours = {view.stored(d)["id"]: s for d, s in zip(found.any_word.tolist(), found.scores.tolist())}
    theirs = {searcher.stored_fields(d)["id"]: s for d, s in expected.items()}
    assert ours.keys() == theirs.keys()
    for doc_id, score in theirs.items():
        assert ours[doc_id] == pytest.approx(score, rel=1e-9, abs=1e-12), doc_id
    every = {view.stored(d)["id"] for d in found.every_word.tolist()}
    assert every == {searcher.stored_fields(d)["id"] for d, c in covered.items()
                     if c == len(compiled.groups) and d not in excluded} or not compiled.groups


def test_the_engine_ranks_the_same_as_whoosh_scores_them(twins):
    """The whole ranking (first stage) of a query equals ordering Whoosh's own scores."""
    engine, searcher = twins
    from search.request import SearchRequest
    result = engine.search(SearchRequest(q='"الأسواق الفلسطينية" الصادرات', per_page=100, collapse=False),
                           highlight=False)
    assert result.total > 20 and [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_deleted_and_replaced_documents_never_match(tmp_path):
    build_index([SEEDS_DIR], tmp_path)
    corpus = tmp_path / "change.jsonl"
    corpus.write_text(record("001_d30af9c42a70480b", "نص جديد بلا الكلمة") + "\n", "utf-8")
    build_index([corpus], tmp_path, update=True)
    view = Engine(tmp_path)._view()
    compiled = compile_query("القسام")
    found = match(view, compiled.groups, [], None, Deadline(NO_HURRY))
    ids = {view.stored(d)["id"] for d in found.any_word.tolist()}
    assert "001_d30af9c42a70480b" not in ids and len(ids) == 1
    assert view.live[found.any_word].all()
    phrase = match(view, compile_query('"المكتب السياسي"').groups, [], None, Deadline(NO_HURRY))
    assert "001_d30af9c42a70480b" not in {view.stored(d)["id"] for d in phrase.any_word.tolist()}


def test_threads_share_the_data_derived_from_one_index_state(tmp_path):
    import threading

    engine = build_small_index(tmp_path, [{"id": "a", "text": "حماس في غزة"}, {"id": "b", "text": "فتح في رام الله"}])
    views = []
    thread = threading.Thread(target=lambda: views.append(engine._view()))
    thread.start()
    thread.join()
    here = engine._view()
    assert here.searcher is not views[0].searcher  # searchers are per thread
    assert here.state is views[0].state and here.codes("source") is views[0].codes("source")
    delete_documents(["b"], tmp_path / "index")  # a new index state: new data, not the stale one
    assert engine._view().state is not here.state and engine._view().count == 1


def test_an_index_in_whoosh_s_own_format_is_refused_with_the_rebuild_message(tmp_path):
    engine = build_small_index(tmp_path, [{"id": "a", "text": "حماس في غزة"}])
    generation = next((tmp_path / "index").glob("gen-*"))
    manifest = json.loads((generation / "bahth.json").read_text())
    (generation / "bahth.json").write_text(json.dumps({**manifest, "format": "whoosh-w3"}))
    from search.errors import IndexProblem
    with pytest.raises(IndexProblem, match="--rebuild"):
        Engine(tmp_path / "index").doc_count()
    assert engine is not None


def _reference_rescore(ranked, stems, text_of):
    """The trigram stage as it was first written: ``str.count`` on each candidate's
    stems text (search.grams.stem_text of its title and body)."""
    from collections import Counter
    from math import log

    from search.grams import GRAM_WEIGHT, grams

    wanted = frozenset(g for stem in stems for g in grams(stem))
    found, lengths = {}, {}
    for _, docnum in ranked:
        text = text_of(docnum)
        found[docnum] = {gram: n for gram in wanted if (n := text.count(gram))}
        words = text.count(" ") + 1 if text else 0
        lengths[docnum] = len(text) - 3 * words + 1 if text else 0
    n = len(ranked)
    average = sum(lengths.values()) / n or 1.0
    df = Counter(gram for tf in found.values() for gram in tf)
    idf = {gram: log(1 + (n - k + 0.5) / (k + 0.5)) for gram, k in df.items()}
    out = []
    for score, docnum in ranked:
        norm = K1 * (1 - B + B * lengths[docnum] / average)
        bonus = sum(idf[g] * tf * (K1 + 1) / (tf + norm) for g, tf in found[docnum].items())
        out.append((score + GRAM_WEIGHT * bonus, docnum))
    return sorted(out, key=lambda pair: (-pair[0], pair[1]))


@pytest.mark.parametrize("q", ["الأسواق الفلسطينية", "حماس والجهاد الإسلامي في القاهرة", "يستخدم الفلسطينيون",
                               "ارتفاع الاسعار"])
def test_the_trigram_stage_counts_what_str_count_counts_on_the_stems_text(twins, q):
    from search.engine import _gram_index
    from search.grams import rescore, stem_text

    engine, _ = twins
    view = engine._view()
    compiled = compile_query(q)
    found = match(view, compiled.groups, compiled.negatives, None, Deadline(NO_HURRY))
    ranked = sorted(zip(found.scores.tolist(), found.any_word.tolist()), key=lambda p: (-p[0], p[1]))[:100]
    ours = rescore(ranked, compiled.stems, _gram_index(view), view.stem_pairs([d for _, d in ranked]))

    def text_of(docnum):
        stored = view.stored(docnum)
        return stem_text(f"{stored.get('title') or ''}\n{stored.get('body', '')}")
    theirs = _reference_rescore(ranked, compiled.stems, text_of)
    assert [d for _, d in ours] == [d for _, d in theirs]
    assert [s for s, _ in ours] == pytest.approx([s for s, _ in theirs], rel=1e-12)
    assert any(a != b for (a, _), (b, _) in zip(ours, ranked))  # the stage did change scores
