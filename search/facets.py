"""The facets, declared once: this table drives the request's filters, the counts of a
search, the result's ``facets`` and ``filters``, the OpenAPI document, the page's
sidebar and the command line's options."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Facet:
    key: str  # its name in SearchResult.facets (and its request parameter, if it filters)
    column: str  # the index column its values come from (search.view codes, or "day")
    label: str  # its heading on the page
    order: str  # "count": most frequent first; "newest": latest period first
    filter: bool  # chosen values filter the search (repeatable parameter ``key``)
    description: str  # for the API document and the command line's help
    multi: bool = False  # an article may have several values (the places it mentions)


FACETS = (
    Facet("source", "source", "المصدر", "count", True,
          "source filter, repeatable: a source's whole name, any case and Arabic spelling (empty: source unknown)"),
    Facet("category", "category", "التصنيف", "count", True, "category filter, repeatable (the data's own keys)"),
    Facet("place", "place", "الأماكن", "count", True,
          "place filter, repeatable: the countries, cities and territories articles mention (search.entities)",
          multi=True),
    Facet("person", "person", "الأشخاص", "count", True, "person filter, repeatable: people articles mention",
          multi=True),
    Facet("organization", "organization", "المنظمات", "count", True,
          "organization filter, repeatable: parties, movements, armed groups, international bodies … articles mention",
          multi=True),
    Facet("date", "year", "السنة", "newest", False, "articles per year"),
    Facet("month", "month", "الشهر", "newest", False, "articles per month"),
)
BY_KEY = {facet.key: facet for facet in FACETS}
#: The facets a request can filter on, in order.
FILTERS = tuple(facet for facet in FACETS if facet.filter)
#: The facets of who and where an article mentions (search.entities).
ENTITY_FACETS = tuple(facet.key for facet in FACETS if facet.multi)
