"""The `bahth` command: index, search and serve."""

from __future__ import annotations

import csv
import errno
import html
import json
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from search.analytics import PERIODS, SCORERS, terms, trends
from search.engine import Engine
from search.errors import BadRequest, BahthError
from search.facets import BY_KEY, ENTITY_FACETS, FILTERS
from search.generations import live_generation
from search.indexer import build_index, check_index, delete_documents
from search.paths import INDEX_ENV, SEEDS_DIR, default_index_dir
from search.request import SORTS, SearchRequest

SHOWN_PROBLEMS = 20
#: Exit status of `bahth index` when inputs were skipped (1 and 2 are click's errors).
SKIPPED_EXIT = 3

index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar=INDEX_ENV,
    default=default_index_dir, show_default="index/ (or $BAHTH_INDEX_DIR)",
    help="Directory holding the index.")


@click.group()
@click.version_option(package_name="bahth")
def main() -> None:
    """Bahth (بحث): search Arabic political news."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@click.option("--rebuild", is_flag=True,
              help="Build a fresh index from PATHS and switch to it when complete.")
@click.option("--update", is_flag=True,
              help="Add new and replace changed documents of PATHS in the existing index.")
@click.option("--delete", "delete_ids", multiple=True, metavar="ID",
              help="Remove the document with this id (repeatable).")
@click.option("--check", is_flag=True, help="Verify the index and say what is wrong, if anything.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--allow-skips", is_flag=True,
              help="Exit 0 even when some inputs were skipped (they are still listed).")
def index_command(paths: tuple[Path, ...], index_dir: Path, rebuild: bool, update: bool,
                  delete_ids: tuple[str, ...], check: bool, quiet: bool, allow_skips: bool) -> None:
    """Index .txt folders and .jsonl / .jsonl.gz files (default: the seed articles).

    Without --rebuild, documents are merged into the live index (same id = replaced,
    unchanged ones skipped). The index being served is never broken: a rebuild is
    written beside it and switched in when complete. Exits with status 3 when any
    input was skipped, unless --allow-skips; --check exits 1 when the index is broken.
    """
    modes = [name for name, on in (("--rebuild", rebuild), ("--update", update),
                                   ("--delete", bool(delete_ids)), ("--check", check)) if on]
    if len(modes) > 1:
        raise click.UsageError(f"{' and '.join(modes)} cannot be combined")
    if check:
        if paths:
            raise click.UsageError("--check takes no PATHS")
        _check(index_dir)
        return
    if delete_ids and paths:
        raise click.UsageError("--delete takes ids, not PATHS")
    with errors_for_the_terminal():
        if delete_ids:
            summary = delete_documents(delete_ids, index_dir)
        else:
            progress = None if quiet else BarProgress() if sys.stderr.isatty() else LineProgress()
            summary = build_index(paths or [SEEDS_DIR], index_dir, rebuild=rebuild, update=update,
                                  progress=progress, notice=None if quiet else _say)
            if progress:
                progress.close()
    _report(summary, index_dir)
    if summary.refused:
        raise click.ClickException(summary.refused)
    if summary.skipped and not allow_skips:
        first = summary.skipped[0]
        click.echo(f"Error: {summary.skipped_count} input(s) skipped, the first at {first.where} "
                   f"({first.reason}); everything else was done. "
                   "Pass --allow-skips to accept skips.", err=True)
        sys.exit(SKIPPED_EXIT)


def _say(text: str) -> None:
    click.echo(text, err=True)


class BarProgress:
    """A progress bar with the total, the rate and the time left (on a terminal)."""

    def __init__(self):
        self._bar = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit=" article", desc="indexing", file=sys.stderr, smoothing=0.05)

    def advance(self, count: int = 1) -> None:
        self._bar.update(count)

    def phase(self, text: str) -> None:
        self.close()
        click.echo(f"{text}…", err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LineProgress:
    """Plain progress lines every EVERY seconds, for logs (no terminal to redraw)."""

    EVERY = 10.0

    def __init__(self):
        self.total = self.done = 0
        self.started = self.last = 0.0

    def start(self, total: int) -> None:
        self.total = total
        self.started = self.last = time.monotonic()
        click.echo(f"indexing about {total:,} articles", err=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.EVERY:
            self.last = now
            click.echo(self.line(now), err=True)

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        left = max(self.total - self.done, 0) / rate if rate else 0
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        return (f"indexing: {self.done:,} of about {self.total:,}{share}, {rate:,.0f} per second, "
                f"about {_duration(left)} left")

    def phase(self, text: str) -> None:
        click.echo(f"{self.done:,} articles read in {_duration(time.monotonic() - self.started)}; {text}…",
                   err=True)

    def close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _counted(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _documents(count: int) -> str:
    return _counted(count, "document")


def _report(summary, index_dir: Path) -> None:
    for note in summary.notes:
        click.echo(f"Note: {note}")
    if summary.deleted or not (summary.indexed or summary.unchanged or summary.rebuilt):
        done = f"Deleted {_documents(summary.deleted)}"
    else:
        done = f"Indexed {_documents(summary.indexed)}"
        if summary.replaced or summary.unchanged:
            done += f" ({summary.replaced:,} replaced; {summary.unchanged:,} unchanged left as they were)"
    action = "built" if summary.rebuilt else "updated"
    if summary.refused:
        click.echo(f"Nothing indexed in {summary.seconds:.1f} s; skipped {summary.skipped_count:,}.")
    else:
        click.echo(f"{done} in {summary.seconds:.1f} s; skipped {summary.skipped_count:,}. "
                   f"Index {action}: {_documents(summary.total)} in {index_dir / summary.generation}")
    for label, problems in (("skipped", [(s.where, s.reason) for s in summary.skipped]),
                            ("warning", summary.warnings)):
        for where, reason in problems[:SHOWN_PROBLEMS]:
            click.echo(f"  {label}: {where}: {reason}")
        if len(problems) > SHOWN_PROBLEMS:
            click.echo(f"  … and {len(problems) - SHOWN_PROBLEMS} more {label} lines")


def _check(index_dir: Path) -> None:
    checks = check_index(index_dir)
    for item in checks:
        click.echo(f"{'ok  ' if item.ok else 'FAIL'} {item.what}")
    if not all(item.ok for item in checks):
        raise click.ClickException(f"the index in {index_dir} is not usable (see FAIL above)")
    click.echo(f"The index in {index_dir} is fine.")


def _terminal(snippet_html: str) -> str:
    """Snippet HTML for a terminal: marks in bold, entities decoded."""
    parts = re.split(r"(<mark>.*?</mark>)", snippet_html)
    out = []
    for part in parts:
        if part.startswith("<mark>"):
            out.append(click.style(html.unescape(part[6:-7]), bold=True, fg="yellow"))
        else:
            out.append(html.unescape(part))
    return "".join(out)


def facet_options(command):
    """``--source``, ``--category`` …: one repeatable option per facet filter (search.facets)."""
    for facet in reversed(FILTERS):
        command = click.option(f"--{facet.key}", facet.key, multiple=True, metavar="VALUE",
                               help=f"{facet.description[:1].upper()}{facet.description[1:]}.")(command)
    return command


def filter_options(command):
    """The facet filters and the date range, as every searching command takes them."""
    command = click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before.")(command)
    command = click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after.")(command)
    return facet_options(command)


def _filters(chosen: dict, date_from, date_to) -> dict:
    return {**{key: list(values) for key, values in chosen.items()}, "from": date_from, "to": date_to}


@main.command("search")
@click.argument("query")
@index_dir_option
@filter_options
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--all-copies", is_flag=True, help="List every copy of a story, not one hit per story.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
def search_command(query, index_dir, date_from, date_to, sort, limit, page, all_copies, as_json,
                   **chosen) -> None:
    """Search the index and print ranked results with snippets.

    QUERY uses the syntax of the web page: words, "a phrase", -word, a OR b (أو),
    word*, title:word (عنوان:), source:name (مصدر:)."""
    with errors_for_the_terminal():
        request = SearchRequest.from_mapping({
            "q": query, **_filters(chosen, date_from, date_to), "sort": sort, "page": page, "per_page": limit,
            "collapse": not all_copies})
        result = Engine(index_dir).search(request)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    note = ""
    if result.match == "or":
        note = (" (no article has every word; showing articles with any of them)" if not result.complete
                else f" ({result.complete} with every word, ranked first)")
    stories = f" in {_counted(result.stories, 'story', 'stories')}" \
        if result.collapse and result.stories < result.total else ""
    click.echo(f"{_counted(result.total, 'result')}{stories} in {result.took_ms:.0f} ms{note}")
    for warning in result.warnings:
        click.echo(f"Note: {warning.message}")
    if result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}")
    _print_hits(result.hits, (page - 1) * limit + 1)
    _print_entities(result.facets)


#: Names of each entity facet printed after the hits.
SHOWN_NAMES = 8


def _print_entities(facets: dict) -> None:
    """The places, people and organizations the hits mention, most frequent first."""
    lines = []
    for key in ENTITY_FACETS:
        values = facets.get(key) or []
        if values:
            names = " · ".join(f"{f['value']} ({f['count']})" for f in values[:SHOWN_NAMES])
            lines.append(f"{BY_KEY[key].label} [--{key}]: {names}")
    if lines:
        click.echo()
        click.echo(click.style("Mentioned in the results", bold=True))
        for line in lines:
            click.echo(f"  {line}")


def _print_hits(hits, first: int) -> None:
    for number, hit in enumerate(hits, first):
        click.echo()
        click.echo(click.style(f"{number}. {hit.title or '(بلا عنوان)'}", bold=True))
        click.echo(f"   {hit.source or 'غير معروف'} · {hit.date or 'غير معروف'} · {hit.id}")
        click.echo(f"   {_terminal(hit.snippet)}")
        if hit.others_total:
            click.echo(f"   + {_copies(hit)}")


def _copies(hit) -> str:
    """"+ 3 other copies of this story: 2 other outlets (…), 1 from the same outlet"."""
    total = hit.others_total
    parts = []
    if hit.others_outlets:
        names = sorted({o["source"] or "غير معروف" for o in hit.others if o["source"] != hit.source})
        more = " …" if hit.others_outlets > len(names) else ""
        parts.append(f"{hit.others_outlets} other outlet{'s' if hit.others_outlets > 1 else ''} "
                     f"({', '.join(names)}{more})")
    if hit.others_same_source:
        parts.append(f"{hit.others_same_source} from the same outlet")
    return f"{total} other cop{'ies' if total > 1 else 'y'} of this story: {', '.join(parts)}"


@contextmanager
def errors_for_the_terminal():
    """Bahth's errors as click errors: one line, non-zero exit (a usage error for bad
    parameters), never a traceback."""
    try:
        yield
    except BadRequest as error:
        raise click.UsageError(error.message) from None
    except BahthError as error:
        raise click.ClickException(error.message) from None


def _print_csv(rows: list[dict], columns: tuple[str, ...]) -> None:
    """Rows as CSV on standard output (a missing value is an empty cell)."""
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


@main.command("trends")
@click.argument("queries", nargs=-1, required=True, metavar="QUERY [QUERY ...]")
@index_dir_option
@filter_options
@click.option("--by", type=click.Choice(PERIODS), default=None,
              help="Count per day, week, month or year. [default: chosen from the span found]")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (query, period, count, share).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
def trends_command(queries, index_dir, by, as_csv, as_json, date_from, date_to, **chosen) -> None:
    """Attention over time: the articles each QUERY finds (up to 4) per period, and their
    share of all the articles the same filters let through in that period."""
    with errors_for_the_terminal():
        shared = SearchRequest.from_mapping(_filters(chosen, date_from, date_to))
        result = trends(Engine(index_dir), list(queries), shared, by)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if as_csv:
        _print_csv(result.rows(), result.COLUMNS)
        return
    for warning in result.warnings:
        click.echo(f"Note: {warning.message}")
    if not result.series or not result.series[0].points:
        click.echo("No dated articles found.")
        return
    width = max(len(q) for q in queries)
    click.echo(f"per {result.by}; count (share of everything published in the period)")
    click.echo("period".ljust(11) + "".join(f"  {q:>{max(width, 16)}}" for q in queries))
    for i, point in enumerate(result.series[0].points):
        cells = []
        for series in result.series:
            p = series.points[i]
            share = "" if p["share"] is None else f" ({p['share']:.1%})"
            cells.append(f"  {(str(p['count']) + share):>{max(width, 16)}}")
        click.echo(point["period"].ljust(11) + "".join(cells))


@main.command("terms")
@click.argument("query")
@index_dir_option
@filter_options
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--scorer", type=click.Choice(list(SCORERS)), default="g2", show_default=True,
              help="How distinctive a word is: log-likelihood G², Elasticsearch's JLH or chi-square.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (text, score, count).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
def terms_command(query, index_dir, limit, scorer, as_csv, as_json, date_from, date_to, **chosen) -> None:
    """What the results of QUERY are about: the words and two-word phrases most distinctive
    of its best hits against the whole archive, as the articles write them."""
    with errors_for_the_terminal():
        request = SearchRequest.from_mapping({"q": query, **_filters(chosen, date_from, date_to)})
        result = terms(Engine(index_dir), request, limit, scorer)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if as_csv:
        _print_csv(result.rows(), result.COLUMNS)
        return
    for warning in result.warnings:
        click.echo(f"Note: {warning.message}")
    click.echo(f"Distinctive of the best {result.foreground} of the results against {result.archive} articles "
               f"({scorer}); count = results using it")
    for number, term in enumerate(result.terms, 1):
        click.echo(f"{number:3}. {term.text}  ({term.count}, {term.score:g})")
    if not result.terms:
        click.echo("No word stands out.")


@main.command("show")
@click.argument("doc_id")
@index_dir_option
@click.option("--similar", "similar", type=click.IntRange(0, 100), default=0, metavar="N",
              help="Also list the N most similar articles.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
def show_command(doc_id, index_dir, similar, as_json) -> None:
    """Print one article in full, the other copies of its story, and similar articles."""
    with errors_for_the_terminal():
        engine = Engine(index_dir)
        document = engine.document(doc_id)
        related = engine.similar(doc_id, similar) if similar else None
    if as_json:
        out = dict(document, similar=related.to_dict() if related else None)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(click.style(document["title"] or "(بلا عنوان)", bold=True))
    click.echo(f"{document['source'] or 'غير معروف'} · {document['date'] or 'غير معروف'} · {document['url'] or ''}")
    click.echo()
    click.echo(document["body"])
    for copy in document["copies"]:
        click.echo(f"\nAlso carried by {copy['source'] or 'غير معروف'} ({copy['date'] or '?'}): {copy['id']}")
    if related:
        click.echo(click.style("\nSimilar articles", bold=True))
        _print_hits(related.hits, 1)


@main.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@index_dir_option
@click.option("--index-name", default="bahth", show_default=True, help="Target index name in the bulk file.")
def export_command(out_dir: Path, index_dir: Path, index_name: str) -> None:
    """Write the index for Elasticsearch/OpenSearch: mapping.json (settings and mappings,
    with Bahth's analysis carried in pre-analyzed fields) and bulk.ndjson (the _bulk format)."""
    from search.export import mapping, write_bulk

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "mapping.json").write_text(json.dumps(mapping(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    with errors_for_the_terminal(), open(out_dir / "bulk.ndjson", "w", encoding="utf-8") as out:
        count = write_bulk(index_dir, out, index_name)
    click.echo(f"Wrote {count} documents to {out_dir / 'bulk.ndjson'} and the index definition to "
               f"{out_dir / 'mapping.json'}. Load them with:\n"
               f"  curl -XPUT localhost:9200/{index_name} -H 'Content-Type: application/json' --data-binary @{out_dir / 'mapping.json'}\n"
               f"  curl -XPOST localhost:9200/_bulk -H 'Content-Type: application/x-ndjson' --data-binary @{out_dir / 'bulk.ndjson'}")


@main.command("query-dsl")
@click.argument("query")
def query_dsl_command(query: str) -> None:
    """Print QUERY (Bahth's syntax) as Elasticsearch/OpenSearch query DSL on exported fields."""
    from search.export import query_dsl

    click.echo(json.dumps({"query": query_dsl(query)}, ensure_ascii=False, indent=2))


@main.command("serve")
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--rate-limit", type=click.FloatRange(0), default=None, metavar="PER_SECOND",
              help="Searches per second per client address after a burst; 0 = no limit. [default: 10]")
@click.option("--burst", type=click.IntRange(1), default=None, help="Burst allowed per client. [default: 30]")
@click.option("--time-limit", type=click.FloatRange(0.01), default=None, metavar="SECONDS",
              help="Seconds one search may run before it is stopped. [default: 5]")
def serve_command(index_dir: Path, host: str, port: int, threads: int, rate_limit, burst, time_limit) -> None:
    """Serve the web page and the JSON API with a production server (waitress)."""
    import waitress

    from web import SERVER_OPTIONS, create_app

    if live_generation(index_dir) is None:
        raise click.ClickException(f"no index in {index_dir}: run `bahth index` first")
    options = {"RATE_LIMIT": rate_limit, "RATE_BURST": burst, "QUERY_TIME_LIMIT": time_limit}
    app = create_app({"INDEX_DIR": index_dir, **{k: v for k, v in options.items() if v is not None}})
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads, **SERVER_OPTIONS)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use (another `bahth serve`?); choose another "
                f"with `bahth serve --port {port + 1}` or `make serve PORT={port + 1}`") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
    click.echo(f"Serving {index_dir} on http://{host}:{server.effective_port}/ (Ctrl+C stops)")
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
