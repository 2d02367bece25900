"""Template helpers: dates as Arabic readers read them, labels for unknown values."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from flask import Flask, request, url_for
from markupsafe import Markup

from search.engine import MAX_ROWS
from search.facets import FILTERS
from search.periods import period_range

MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
          "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
UNKNOWN = "غير معروف"
#: A facet shows its most frequent values and folds the rest (up to MAX_ENTITY_VALUES and
#: every source) under "more", so that the dates stay within reach below the facets.
FACET_SHOWN = 8


def arabic_date(value: str | None) -> str:
    """``2022-08-22`` -> ``22 أغسطس 2022``; ``2022-08`` -> ``أغسطس 2022``; None -> غير معروف."""
    if not value:
        return UNKNOWN
    parts = value.split("-")
    try:
        if len(parts) == 3:
            day = dt.date.fromisoformat(value)
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return value


def link(url: str | None) -> str | None:
    """An outbound link for a stored url; scheme-less urls (as the seed metadata gives them) get https."""
    if not url:
        return None
    if url.startswith(("http://", "https://")):
        return url
    if "://" in url or url.startswith(("javascript:", "data:")):
        return None
    return "https://" + url


def changed_url(endpoint: str, changes: dict, dropped: tuple[str, ...] = ("page",)) -> str:
    """The current request's parameters sent to ``endpoint``, some changed (None removes
    one); ``dropped`` ones (the page, unless changed) are left out."""
    args = request.args.to_dict(flat=False)
    for key in dropped:
        if key not in changes:
            args.pop(key, None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value if isinstance(value, list) else [value]
    return url_for(endpoint, **args)


def search_url(**changes) -> str:
    """The current search URL with some parameters changed; page resets to 1."""
    return changed_url("bahth.search_page", changes)


def trends_url(**changes) -> str:
    """The current comparison over time with some parameters changed."""
    return changed_url("bahth.trends_page", changes)


def api_url(endpoint: str, **changes) -> str:
    """The JSON (or download) twin of the current page: same query and filters, no paging."""
    return changed_url(endpoint, changes, ("page", "per_page", "show"))


def clear_filters() -> dict:
    """search_url() changes that remove every facet filter and the date range."""
    return {**{facet.key: None for facet in FILTERS}, "from": None, "to": None}


def toggled(current: list, value: str | None) -> list[str]:
    """Filter values (sources, categories) after clicking ``value``: added if absent,
    removed if present. An empty value stands for "unknown"."""
    token = value or ""
    values = ["" if v is None else v for v in current]
    return [v for v in values if v != token] if token in values else values + [token]


def paragraphs(html: str) -> list[Markup]:
    """The article's (already escaped and marked) text split at line breaks."""
    return [Markup(part.strip()) for part in str(html).split("\n") if part.strip()]


def number(value: int) -> str:
    """Thousands separated with the Arabic separator: 12٬345."""
    return f"{value:,}".replace(",", "٬")


#: The forms of a counted noun (Arabic number agreement): one, two, three to ten, eleven
#: to ninety-nine (and 11-99 after the hundreds), a round hundred (and 100-102 …).
NOUNS = {
    "result": ("نتيجة واحدة", "نتيجتان", "نتائج", "نتيجة", "نتيجة"),
    "article": ("مقالة واحدة", "مقالتان", "مقالات", "مقالة", "مقالة"),
    "story": ("خبر واحد", "خبرين", "أخبار مختلفة", "خبرًا مختلفًا", "خبر مختلف"),  # after في
}


def counted(n: int, noun: str) -> str:
    """``n`` and its noun as Arabic says it: نتيجة واحدة، نتيجتان، 5 نتائج، 12 نتيجة، 100 نتيجة."""
    one, two, few, many, hundred = NOUNS[noun]
    if n == 1:
        return one
    if n == 2:
        return two
    rest = n % 100
    form = few if 3 <= rest <= 10 else many if rest >= 11 else hundred if n >= 100 else many
    return f"{number(n)} {form}"


def _labels(name: str) -> dict[str, str]:
    """``key<TAB>label`` lines of ``web/labels/<name>.tsv`` (``#`` starts a comment)."""
    text = resources.files("web").joinpath("labels", f"{name}.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): label.strip() for key, label in rows}


CATEGORY_LABELS = _labels("categories")


def category_label(key: str | None) -> str | None:
    """A category's Arabic name, or its key when it has none."""
    return CATEGORY_LABELS.get(key, key) if key else key


PERIOD_LABELS = {"day": "يوم", "week": "أسبوع", "month": "شهر", "year": "سنة"}


def period_name(period: str, by: str) -> str:
    """A trends period for Arabic readers: ``14 مايو 2018``, ``أسبوع 14 مايو 2018``, ``مايو 2018``, ``2018``."""
    if by == "week":
        return f"أسبوع {arabic_date(period)}"
    return arabic_date(period) if by in ("day", "month") else period


PRESET_LABELS = {"day": "آخر يوم", "week": "آخر أسبوع", "month": "آخر شهر", "year": "آخر سنة"}


def others_label(outlets: int, same: int) -> str:
    """What the other copies of a story are, in Arabic with number agreement: other
    outlets that carried it, and republications by the same outlet."""
    parts = []
    if outlets == 1:
        parts.append("نشر هذا الخبر مصدر آخر")
    elif outlets == 2:
        parts.append("نشر هذا الخبر مصدران آخران")
    elif 3 <= outlets <= 10:
        parts.append(f"نشرت هذا الخبر {outlets} مصادر أخرى")
    elif outlets > 10:
        parts.append(f"نشر هذا الخبر {number(outlets)} مصدرًا آخر")
    if same:
        times = {1: "مرة أخرى", 2: "مرتين أخريين"}.get(same, f"{number(same)} مرات أخرى" if same <= 10
                                                          else f"{number(same)} مرة أخرى")
        parts.append(f"{'و' if parts else ''}أعاد المصدر نفسه نشره {times}")
    return "، ".join(parts)


def copies_label(own_source: str | None, copies: list[dict]) -> str:
    """:func:`others_label` for the full list of an article's copies."""
    sources = [c.get("source") for c in copies]
    return others_label(len({s for s in sources if s != own_source}), sum(s == own_source for s in sources))


def register(app: Flask) -> None:
    app.jinja_env.filters["arabic_date"] = arabic_date
    app.jinja_env.filters["link"] = link
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["counted"] = counted
    app.jinja_env.filters["category_label"] = category_label
    app.jinja_env.globals.update(
        search_url=search_url, changed_url=changed_url, trends_url=trends_url, api_url=api_url,
        clear_filters=clear_filters, toggled=toggled, period_range=period_range, period_name=period_name,
        others_label=others_label, copies_label=copies_label, paragraphs=paragraphs,
        FILTERS=FILTERS, FACET_SHOWN=FACET_SHOWN, MAX_ROWS=MAX_ROWS, PERIOD_LABELS=PERIOD_LABELS,
        PRESET_LABELS=PRESET_LABELS, UNKNOWN=UNKNOWN)
