"""Lists as files a spreadsheet opens: CSV (UTF-8 with a byte-order mark, so that Excel
and LibreOffice read Arabic correctly) or JSON Lines, streamed row by row."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from flask import Response

from search.errors import BadRequest

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def download_format(value: str | None) -> str | None:
    """The ``format`` parameter: None (JSON as usual), "csv" or "jsonl"."""
    if value in (None, "", "json"):
        return None
    if value not in FORMATS:
        raise BadRequest("bad_format", "format must be json, csv or jsonl",
                         "صيغة التنزيل «{echo}» غير معروفة: csv أو jsonl", echo=value[:20], params=("format",))
    return value


def _csv_lines(rows: Iterable[dict], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        yield buffer.getvalue()


def _jsonl_lines(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def download(rows: Iterable[dict], columns: list[str], fmt: str, name: str) -> Response:
    """``rows`` as an attachment ``name.csv`` or ``name.jsonl``, streamed."""
    body = _csv_lines(rows, columns) if fmt == "csv" else _jsonl_lines(rows)
    response = Response(body, mimetype=FORMATS[fmt].split(";")[0])
    response.headers["Content-Type"] = FORMATS[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
