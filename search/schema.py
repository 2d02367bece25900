"""The Whoosh schema: what is indexed, stored and kept in columns for facets and sorting."""

from whoosh import columns
from whoosh.fields import COLUMN, DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import ANALYZER
from search.stories import RECORD_BYTES

#: Bump when the schema or the analysis chain changes: an index built by another
#: version must be rebuilt, not updated.
SCHEMA_VERSION = 5


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # Analyzed text with positions (phrases) and the cleaned original stored (snippets).
        title=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        body=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        # Facet and sort keys live in columns so counting them never loads stored fields.
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        date=DATETIME(stored=True, sortable=True),
        day=NUMERIC(int, bits=32, sortable=True),  # YYYYMMDD, 0 when unknown: sorts last
        year=ID(sortable=True),
        month=ID(sortable=True),
        url=STORED,
        fingerprint=STORED,
        # Near-duplicates (search.stories): the story's id, and this article's MinHash
        # signature and exact-text key so that an update can place new articles in
        # existing stories.
        story=ID(stored=True, sortable=True),
        minhash=COLUMN(columns.FixedBytesColumn(RECORD_BYTES)),
        # The stems of title and body, in order (search.grams), for the second ranking stage.
        stems=COLUMN(columns.VarBytesColumn()),
    )
