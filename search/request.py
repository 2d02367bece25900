"""A search request and its validation, shared by the JSON API, the page and the CLI."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from search.errors import BadRequest
from search.facets import BY_KEY, FILTERS
from search.querylang import MAX_QUERY_CHARS

SORTS = ("relevance", "date")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
MAX_RESULT_WINDOW = 10_000  # page * per_page beyond this is refused (deep paging is a crawl)
MAX_FILTER_VALUES = 50  # of one facet


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    #: Facet filters (search.facets.FILTERS): facet key -> the values chosen; ``None``
    #: among them stands for "no value" (an article whose source is unknown).
    chosen: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    #: Copies of one story from several outlets shown as one hit (search.stories).
    collapse: bool = True

    def __post_init__(self):
        if len(self.q) > MAX_QUERY_CHARS:
            raise BadRequest("query_too_long", f"the query is longer than {MAX_QUERY_CHARS} characters",
                             f"نص البحث أطول من {MAX_QUERY_CHARS} حرف؛ اختصره", params=("q",))
        if self.sort not in SORTS:
            raise BadRequest("bad_sort", f"sort must be one of: {', '.join(SORTS)}",
                             "طريقة الترتيب «{echo}» غير معروفة؛ اختر «الأكثر صلة» أو «الأحدث»",
                             echo=self.sort, params=("sort",))
        if self.page < 1:
            raise BadRequest("bad_page", "page must be 1 or more", "رقم الصفحة يبدأ من 1", params=("page",))
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadRequest("bad_per_page", f"per_page must be between 1 and {MAX_PER_PAGE}",
                             f"عدد النتائج في الصفحة بين 1 و{MAX_PER_PAGE}", params=("per_page",))
        if self.page * self.per_page > MAX_RESULT_WINDOW:
            raise BadRequest("page_too_deep",
                             f"results beyond the first {MAX_RESULT_WINDOW} are not served; narrow the search",
                             f"لا تُعرض النتائج بعد أول {MAX_RESULT_WINDOW}؛ ضيّق البحث بمصدر أو تاريخ",
                             params=("page", "per_page"))
        for key, values in self.chosen.items():
            if key not in BY_KEY or not BY_KEY[key].filter:
                raise ValueError(f"no facet filter {key!r}")
            if len(values) > MAX_FILTER_VALUES:
                raise BadRequest("too_many_filters", f"at most {MAX_FILTER_VALUES} values of {key}",
                                 f"يمكن اختيار {MAX_FILTER_VALUES} قيمة على الأكثر ({BY_KEY[key].label})",
                                 params=(key,))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadRequest("bad_date_range", "from must not be after to",
                             "تاريخ البداية بعد تاريخ النهاية؛ بدّل بينهما", params=("from", "to"))

    def values(self, key: str) -> tuple[str | None, ...]:
        """The values chosen for facet ``key`` (none: not filtered)."""
        return self.chosen.get(key, ())

    @classmethod
    def from_params(cls, get: Callable[[str], str | None], getlist: Callable[[str], Sequence[str]]) -> "SearchRequest":
        """Build from query-string style parameters (all strings), raising BadRequest."""
        q = (get("q") or "").strip()
        if "\x00" in q:
            q = q.replace("\x00", " ")
        chosen = {facet.key: tuple(dict.fromkeys(v.strip() or None for v in getlist(facet.key)))
                  for facet in FILTERS}
        return cls(
            q=q,
            chosen={key: values for key, values in chosen.items() if values},
            date_from=parse_day(get("from"), "from"),
            date_to=parse_day(get("to"), "to"),
            sort=get("sort") or "relevance",
            page=parse_int(get("page"), "page", 1),
            per_page=parse_int(get("per_page"), "per_page", DEFAULT_PER_PAGE),
            collapse=parse_flag(get("collapse"), "collapse", True),
        )

    @classmethod
    def from_mapping(cls, params: Mapping[str, object]) -> "SearchRequest":
        def getlist(key):
            value = params.get(key)
            return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]
        return cls.from_params(lambda k: None if params.get(k) is None else str(params[k]), getlist)


#: Dates as people type them: 2018-05-14, 2018/5/14, 14-05-2018 or 14/5/2018, in Western
#: or Arabic-Indic digits.
_ISO_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY_DAY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_DAY_NAMES = {"from": "تاريخ البداية", "to": "تاريخ النهاية"}


def parse_day(value: str | None, name: str) -> dt.date | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip().translate(_DIGITS)
    parts = None
    if match := _ISO_DAY.fullmatch(text):
        parts = tuple(map(int, match.groups()))
    elif match := _DMY_DAY.fullmatch(text):
        day, month, year = map(int, match.groups())
        parts = (year, month, day)
    try:
        return dt.date(*parts) if parts else dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest("bad_date", f"{name} must be a date written YYYY-MM-DD, got {value[:40]!r}",
                         f"{_DAY_NAMES.get(name, name)} «{{echo}}» ليس تاريخًا صحيحًا؛ "
                         "اكتبه بالشكل سنة-شهر-يوم، مثل \u20662018-05-14\u2069",  # (an LTR isolate)
                         echo=value[:40], params=(name,)) from None


def parse_int(value: str | None, name: str, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip().translate(_DIGITS))
    except ValueError:
        raise BadRequest(f"bad_{name}", f"{name} must be a whole number, got {value[:40]!r}",
                         f"القيمة «{{echo}}» ليست عددًا صحيحًا ({name})", echo=value[:40], params=(name,)) from None
    if abs(number) > 10**9:
        raise BadRequest(f"bad_{name}", f"{name} is out of range", f"القيمة خارج المدى المسموح ({name})",
                         params=(name,))
    return number


def parse_flag(value: str | None, name: str, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    folded = value.strip().lower()
    if folded in ("1", "true", "yes", "on"):
        return True
    if folded in ("0", "false", "no", "off"):
        return False
    raise BadRequest(f"bad_{name}", f"{name} must be true or false, got {value[:40]!r}",
                     f"القيمة «{{echo}}» ليست نعم أو لا ({name})", echo=value[:40], params=(name,))
