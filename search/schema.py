"""The Whoosh schema: what is indexed, stored and kept in columns for facets and sorting."""

from whoosh import columns
from whoosh.fields import COLUMN, DATETIME, ID, STORED, TEXT, Schema

from search.analysis import ANALYZER
from search.codec import CodeColumn, CodesColumn, StemsColumn
from search.stories import RECORD_BYTES

#: Bump when the schema, the analysis chain or the index format changes: an index built
#: by another version must be rebuilt, not updated.
SCHEMA_VERSION = 9
#: The fields that hold words, in the order their terms are written.
TEXT_FIELDS = ("title", "body")


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # Analyzed text with positions (phrases) and the cleaned original stored (snippets).
        title=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        body=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        # Facet keys: one integer code per document (search.codec.CodeColumn), counted and
        # filtered whole with numpy, and read from there for the hits too.
        source=COLUMN(CodeColumn()),
        category=COLUMN(CodeColumn()),
        date=DATETIME(stored=True),
        day=COLUMN(columns.NumericColumn("I", default=0)),  # YYYYMMDD, 0 when unknown: sorts last
        url=STORED,
        fingerprint=STORED,
        # Near-duplicates (search.stories): the story's id (the id of its first article),
        # and this article's MinHash signature and exact-text key so that an update can
        # place new articles in existing stories.
        story=COLUMN(CodeColumn()),
        minhash=COLUMN(columns.FixedBytesColumn(RECORD_BYTES)),
        # The places, people and organizations an article names (search.entities): facets.
        place=COLUMN(CodesColumn()),
        person=COLUMN(CodesColumn()),
        organization=COLUMN(CodesColumn()),
        # The stems of title and body as a multiset (search.codec.StemsColumn), for the
        # second ranking stage (search.grams).
        stems=COLUMN(StemsColumn()),
    )
