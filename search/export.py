"""Moving on from one machine: the index as an Elasticsearch / OpenSearch index.

Bahth's stemmer is a set of Python rules and word lists that no built-in Elasticsearch
filter reproduces. So the export carries the analysis with it: every text field goes
out twice, as the original text (for display, highlighting and an approximate built-in
Arabic analysis) and as the terms our ANALYZER made (``*_stems``: one stem per
position, ``*_exact``: the normalized surface form at the same position), indexed there
with a plain whitespace tokenizer. Searching those fields with query terms made by the
same analyzer (:func:`query_dsl`) gives the same matches, boosts and BM25 parameters as
here; only the coverage re-ranking of the top 100 stays on the client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Iterator

import numpy as np
from whoosh import query as wq

from search.analysis import EXACT_MARK, STOPWORDS
from search.indexer import open_index
from search.facets import ENTITY_FACETS
from search.querylang import PublishedIn, analyze, compile_query, fold_source
from search.ranking import B, K1
from search.schema import TEXT_FIELDS
from search.view import IndexView

def mapping() -> dict:
    """Index settings and mappings (create the index with this body)."""
    def text_field() -> dict:
        return {"type": "text", "analyzer": "bahth_arabic", "search_analyzer": "bahth_arabic_query",
                "fields": {"surface": {"type": "text", "analyzer": "bahth_arabic_surface"}}}
    terms = {"type": "text", "analyzer": "bahth_terms"}
    return {
        "settings": {
            "index": {"similarity": {"default": {"type": "BM25", "k1": K1, "b": B}}},
            "analysis": {
                "filter": {"bahth_stop": {"type": "stop", "stopwords": sorted(STOPWORDS)}},
                "analyzer": {
                    # Exact: the terms Bahth's analyzer made, one token per position.
                    "bahth_terms": {"type": "custom", "tokenizer": "whitespace"},
                    # Approximate, for clients that cannot run Bahth's analyzer: Lucene's
                    # normalization and its (different, more aggressive) Arabic stemmer.
                    "bahth_arabic": {"type": "custom", "tokenizer": "standard",
                                     "filter": ["lowercase", "decimal_digit", "arabic_normalization",
                                                "arabic_stem"]},
                    "bahth_arabic_query": {"type": "custom", "tokenizer": "standard",
                                           "filter": ["lowercase", "decimal_digit", "arabic_normalization",
                                                      "bahth_stop", "arabic_stem"]},
                    "bahth_arabic_surface": {"type": "custom", "tokenizer": "standard",
                                             "filter": ["lowercase", "decimal_digit", "arabic_normalization"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                **{field: text_field() for field in TEXT_FIELDS},
                **{f"{field}_{kind}": terms for field in TEXT_FIELDS for kind in ("stems", "exact")},
                "source": {"type": "keyword"},
                "source_folded": {"type": "keyword"},  # what source filters compare (fold_source)
                "category": {"type": "keyword"},
                "date": {"type": "date", "format": "yyyy-MM-dd"},
                "url": {"type": "keyword", "index": False},
                "story": {"type": "keyword"},
                # Who and where (search.entities): each a list of canonical names.
                **{kind: {"type": "keyword"} for kind in ENTITY_FACETS},
            },
        },
    }


def analyzed(text: str) -> tuple[str, str]:
    """(stems, exact forms) of ``text``, one whitespace-separated token per position."""
    words = analyze(text or "", keep_stopwords=True)  # (every word, as the index has them)
    return " ".join(w.stem for w in words), " ".join(w.surface for w in words)


def documents(index_dir: Path) -> Iterator[dict]:
    """Every live document of the index as an export record."""
    view = IndexView.open(open_index(index_dir).searcher())
    try:
        for docnum in np.flatnonzero(view.live).tolist():
            stored = view.stored(docnum)
            record = {"id": stored["id"]}
            for field in TEXT_FIELDS:
                text = stored.get(field)
                record[field] = text
                record[f"{field}_stems"], record[f"{field}_exact"] = analyzed(text or "")
            date = stored.get("date")
            source, category, story = (view.values(name)[view.codes(name)[docnum]]
                                       for name in ("source", "category", "story"))
            record.update(source=source, source_folded=fold_source(source) if source else None,
                          category=category, date=date.date().isoformat() if date else None,
                          url=stored.get("url"), story=story)
            for kind in ENTITY_FACETS:
                codes = view.code_lists(kind, np.array([docnum]))[1]
                record[kind] = [view.values(kind)[code] for code in codes.tolist()]
            yield record
    finally:
        view.close()


def write_bulk(index_dir: Path, out: IO[str], index_name: str) -> int:
    """The index in the ``_bulk`` NDJSON format (an action line, then the document);
    returns the number of documents written."""
    count = 0
    for record in documents(index_dir):
        out.write(json.dumps({"index": {"_index": index_name, "_id": record["id"]}}, ensure_ascii=False))
        out.write("\n")
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def _leaf(q: wq.Query) -> dict:
    """One node of a compiled Bahth query as query DSL on the pre-analyzed fields."""
    if isinstance(q, wq.DisjunctionMax):  # a word read two ways: the better reading counts
        return {"dis_max": {"queries": [_leaf(child) for child in q.subqueries], "tie_breaker": 0}}
    if isinstance(q, wq.Or):
        return {"bool": {"should": [_leaf(child) for child in q.subqueries], "minimum_should_match": 1}}
    if isinstance(q, wq.Term):
        exact = q.text.startswith(EXACT_MARK)
        field = f"{q.fieldname}_{'exact' if exact else 'stems'}"
        return {"term": {field: {"value": q.text.removeprefix(EXACT_MARK), "boost": round(q.boost, 4)}}}
    if isinstance(q, wq.Phrase):
        return {"match_phrase": {f"{q.fieldname}_stems": {"query": " ".join(q.words), "boost": round(q.boost, 4)}}}
    if isinstance(q, PublishedIn):  # a year also matches the articles published that year
        return {"range": {"date": {"gte": f"{q.year:04d}-01-01", "lte": f"{q.year:04d}-12-31",
                                   "boost": round(q.boost, 4)}}}
    if isinstance(q, wq.Prefix):
        exact = q.text.startswith(EXACT_MARK)
        field = f"{q.fieldname}_{'exact' if exact else 'stems'}"
        return {"prefix": {field: {"value": q.text.removeprefix(EXACT_MARK), "boost": round(q.boost, 4)}}}
    raise ValueError(f"no query DSL for {type(q).__name__}")


def query_dsl(q: str) -> dict:
    """A Bahth query string as an Elasticsearch/OpenSearch ``query`` with the same
    matching and scoring (any word matches; the words' BM25 scores add up). Source
    clauses become filters on the folded source name (one rule with the product's
    filters: a source's whole name, any case and Arabic spelling)."""
    compiled = compile_query(q)
    clauses: dict = {}
    if compiled.groups:
        clauses["should"] = [_leaf(group) for group in compiled.groups]
        clauses["minimum_should_match"] = 1
    if compiled.negatives:
        clauses["must_not"] = [_leaf(negative) for negative in compiled.negatives]
    if compiled.sources or compiled.excluded_sources:
        def named(name: str) -> dict:
            return {"term": {"source_folded": {"value": fold_source(name)}}}
        clauses["filter"] = [{"bool": {
            **({"should": [named(n) for n in compiled.sources], "minimum_should_match": 1}
               if compiled.sources else {}),
            **({"must_not": [named(n) for n in compiled.excluded_sources]} if compiled.excluded_sources else {}),
        }}]
    return {"bool": clauses} if clauses else {"match_all": {}}
