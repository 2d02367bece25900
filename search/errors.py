"""The one error type users see, with the words for each audience.

Every failure a user can meet (a bad parameter, an unknown article, a missing or damaged
index, a search that took too long, too many requests) is a :class:`BahthError`: a
machine-readable ``code``, an HTTP ``status``, an English ``message`` (the JSON API and
the command line) and an Arabic one (the page), which may quote what the user typed
(``echo``, shown isolated in ``<bdi>`` so that its direction cannot disturb the sentence).
The web layer and the CLI each map this one type once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def _arabic_html(arabic: str, echo: str | None) -> Markup:
    """An Arabic message as HTML: escaped, the echoed input (if any) in ``<bdi>``. Input
    without a right-to-left letter (a date, a number, a Latin name) is isolated as
    left-to-right: in an Arabic sentence 2020-13-45 would otherwise show as 45-13-2020."""
    if echo is None or "{echo}" not in arabic:
        return Markup.escape(arabic)
    before, _, after = arabic.partition("{echo}")
    direction = "" if _RIGHT_TO_LEFT.search(echo) else ' dir="ltr"'
    return Markup("{}<bdi" + direction + ">{}</bdi>{}").format(before, echo[:80], after)


class BahthError(Exception):
    code = "error"
    status = 500
    #: The Arabic sentence; ``{echo}`` marks where the user's input is quoted.
    arabic = "حدث خطأ غير متوقع"
    #: Seconds after which a retry may succeed (sent as ``Retry-After``), if any.
    retry_after: int | None = None

    def __init__(self, message: str, arabic: str | None = None, *, code: str | None = None,
                 echo: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if arabic is not None:
            self.arabic = arabic
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.echo = echo

    def arabic_html(self) -> Markup:
        return _arabic_html(self.arabic, self.echo)

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(BahthError, ValueError):
    """A parameter the user got wrong. ``params`` names the request parameters at fault,
    so that a page can still show what the others ask for."""

    status = 400
    arabic = "في الطلب قيمة غير صالحة"

    def __init__(self, code: str, message: str, arabic: str | None = None, *, echo: str | None = None,
                 params: tuple[str, ...] = ()):
        super().__init__(message, arabic, code=code, echo=echo)
        self.params = params


class NotFound(BahthError, LookupError):
    code = "not_found"
    status = 404
    arabic = "لا توجد مقالة بهذا المعرّف"


class IndexProblem(BahthError):
    """The index is missing, busy, or cannot be built; the message says what to do."""

    code = "no_index"
    status = 503
    arabic = "الأرشيف غير جاهز بعد؛ أعد المحاولة بعد قليل"


class IndexUnreadable(IndexProblem):
    """The live index exists but cannot be read (damaged files)."""

    code = "index_unreadable"
    arabic = "تعذّرت قراءة الأرشيف؛ أُبلغ القائمون عليه، أعد المحاولة لاحقًا"


class QueryTimeout(BahthError):
    """The search ran past its time limit and was abandoned."""

    code = "timeout"
    status = 503
    retry_after = 1
    arabic = ("استغرق البحث وقتاً أطول من المسموح؛ جرّب كلمات أقل أو أندر، "
              "أو صفِّ النتائج حسب المصدر أو التاريخ")


class RateLimited(BahthError):
    code = "rate_limited"
    status = 429
    arabic = "طلبات كثيرة في وقت قصير؛ أعد المحاولة بعد لحظات"

    def __init__(self, wait_seconds: int):
        super().__init__(f"too many requests from this address; retry after {wait_seconds} s")
        self.retry_after = wait_seconds


class InputError(BahthError):
    """An input to index that cannot be read at all (a missing path, a broken metadata file)."""

    code = "bad_input"
    status = 400


@dataclass(frozen=True)
class Notice:
    """Something a search that still ran wants the user to know (a filter naming no known
    source): the API lists them as ``warnings``, the page shows them, the CLI prints them."""

    code: str
    message: str
    arabic: str
    echo: str | None = None

    def arabic_html(self) -> Markup:
        return _arabic_html(self.arabic, self.echo)

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
