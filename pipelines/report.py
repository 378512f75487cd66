"""The run report: one self-contained HTML page per run (OUT/_runs/<run_id>.html).

Everything is inline: CSS in a <style> element, charts as SVG drawn here in Python. There is no
JavaScript and no URL to fetch, so the page opens offline and in a mail attachment viewer alike; a
Content-Security-Policy forbids scripts and fetches as a second line of defence, since titles, URLs
and lines come from scraped pages. Every string from the data is escaped.

Test hooks: each chart is a <figure class="chart" id="chart-..."> whose marks (bars) carry
class="mark", data-key and data-value, and an SVG <title> tooltip.

render_report(data) takes this dict (every list may be empty); write_report(uri, data) writes the page
atomically through fsspec:

    {"run": {"run_id", "pipeline_version", "started_at", "finished_at" (ISO), "wall_seconds",
             "output", "inputs": [str], "documents": int | None, "articles", "duplicates", "rejects",
             "already_ingested"},
     "articles_per_day": [[ISO day, articles]], "undated_articles": int,
     "cluster_sizes": [[documents in the cluster, clusters]], "duplicate_kinds": {"exact": n, "near": n},
     "boilerplate_by_source": [[source, articles, mean share of page text removed 0..1]],
     "date_sources": [[source or None, articles]], "top_entities": [[canonical, label, articles]],
     "rejects_by_reason": [[reason, documents]], "stage_seconds": [[stage, busy seconds]],
     "samples": [{"doc_id", "source_uri", "title" (or None), "fate": article|duplicate|reject,
                  "lines": [[line, kept]]}]}

Big inputs stay readable: one bar per publication day for the busiest 120 days (older and newer dates
summed in a grey bar each); the 25 sources with the most articles, the 30 top entities, 20 reasons (the
rest summed); 20 samples of 60 lines each.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import zlib

from storage.files import write_atomically
from storage.layout import filesystem

MAX_DAY_SLOTS = 120  # days shown as bars; articles dated outside the busiest such window are summed
MAX_TICKS = 5  # steps of a count axis
MAX_SOURCES = 25  # boilerplate chart: the sources with the most articles
MAX_ENTITIES = 30
MAX_REASONS = 20  # rejects and date sources: the rest are summed into one "other" bar
MAX_CLUSTER_SIZES = 30  # beyond this, large cluster sizes are binned by powers of two
MAX_SAMPLES = 20
MAX_SAMPLE_LINES = 60
MAX_LINE_CHARS = 1000
MAX_INPUTS_SHOWN = 10
LABEL_CHARS = 34  # horizontal bar labels longer than this are cut (the full text is in the tooltip)

WIDTH = 960  # SVG user units; the SVG scales to the page width
PALETTE = ["#2563eb", "#0d9488", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626",
           "#4b5563", "#9333ea"]


# ---------------------------------------------------------------------------------------------------
# Small helpers


def esc(value) -> str:
    """Text from the data, safe in element content and in quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value) -> float:
    """A finite number from the data: None and NaN count as 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def fmt_int(value) -> str:
    return "—" if value is None else f"{int(number(value)):,}"


def fmt_value(value: float) -> str:
    """A data-value attribute: integers as integers, fractions with 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else format(value, ".6g")


def fmt_duration(seconds) -> str:
    seconds = number(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_time(iso) -> str:
    """An ISO timestamp shown to the second, as given (no time zone conversion)."""
    if not iso:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    zone = moment.strftime(" %Z") if moment.tzinfo else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + zone


LABEL_COLOURS = {"PERSON": "#db2777", "ORG": "#2563eb", "GPE": "#0d9488", "LOC": "#65a30d", "NORP": "#7c3aed",
                 "FAC": "#d97706", "EVENT": "#dc2626", "PRODUCT": "#0891b2", "WORK_OF_ART": "#9333ea",
                 "LAW": "#4b5563", "LANGUAGE": "#a16207"}


def colour_of(label: str) -> str:
    """A stable colour per entity label, the same in every report: fixed for spaCy's, hashed for others."""
    if label in LABEL_COLOURS:
        return LABEL_COLOURS[label]
    return PALETTE[zlib.crc32(label.encode("utf-8", "replace")) % len(PALETTE)]


def count_axis(value: float) -> tuple[int, int]:
    """(axis maximum, tick step) for counts: whole-number ticks 1, 2 or 5 × 10^k apart, at most MAX_TICKS
    steps, the top tick at or just above the tallest bar (bars of 1 get an axis to 1, not to 4)."""
    value = max(1, math.ceil(value))
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if math.ceil(value / step) <= MAX_TICKS:
                return step * math.ceil(value / step), step
        power *= 10


def mark(shape: str, key, value: float, tooltip: str, css: str = "") -> str:
    """One bar: `shape` is an SVG element's opening (e.g. '<rect x=".." ...'), closed here."""
    return (f'{shape} class="mark{" " + css if css else ""}" data-key="{esc(key)}" data-value="{fmt_value(value)}">'
            f"<title>{esc(tooltip)}</title></rect>")


# ---------------------------------------------------------------------------------------------------
# Shaping the data into what is drawn


def day_window(articles_per_day) -> tuple[list[dt.date], dict[dt.date, int], int, int]:
    """(every day of the window, articles per day in it, articles dated before it, articles after it).

    The window is the whole span of publication days when it has at most MAX_DAY_SLOTS days; else the
    MAX_DAY_SLOTS days holding the most articles (the latest such), since a delivery is mostly recent
    days with a tail of old dates, which would otherwise squeeze years into the chart. Every bar is one
    day, so a day without articles shows as a gap. Unparsable days are skipped."""
    counts: dict[dt.date, int] = {}
    for day, count in articles_per_day:
        try:
            parsed = dt.date.fromisoformat(str(day)[:10])
        except ValueError:
            continue
        counts[parsed] = counts.get(parsed, 0) + int(number(count))
    if not counts:
        return [], {}, 0, 0
    days = sorted(counts)
    best, best_start, total, first = -1, days[0], 0, 0
    for last, day in enumerate(days):  # the window ending on each day in turn
        total += counts[day]
        while (day - days[first]).days >= MAX_DAY_SLOTS:
            total -= counts[days[first]]
            first += 1
        if total >= best:
            best, best_start = total, days[first]
    end = max(day for day in days if (day - best_start).days < MAX_DAY_SLOTS)
    span = [best_start + dt.timedelta(days=i) for i in range((end - best_start).days + 1)]
    before = sum(count for day, count in counts.items() if day < best_start)
    after = sum(count for day, count in counts.items() if day > end)
    return span, {day: counts[day] for day in span if day in counts}, before, after


def cluster_bins(cluster_sizes) -> list[tuple[str, int]]:
    """[(size label, clusters)]: one bar per size, or, past MAX_CLUSTER_SIZES distinct sizes, sizes up to
    20 alone and larger ones in power-of-two bins ("21–32", "33–64", ...) so the long tail stays visible."""
    sizes = sorted((int(number(size)), int(number(count))) for size, count in cluster_sizes)
    if len(sizes) <= MAX_CLUSTER_SIZES:
        return [(str(size), count) for size, count in sizes]
    bins: dict[tuple[int, int], int] = {}
    for size, count in sizes:
        if size <= 20:
            low = high = size
        else:
            high = 2 ** math.ceil(math.log2(size))
            low = max(21, high // 2 + 1)
        bins[(low, high)] = bins.get((low, high), 0) + count
    return [(str(low) if low == high else f"{low}–{high}", count) for (low, high), count in sorted(bins.items())]


def top_with_other(pairs, limit: int, other_label: str) -> list[tuple[object, int, bool]]:
    """[(key, count, is_other)]: the `limit` largest, the rest summed into one row."""
    ranked = sorted(((key, int(number(count))) for key, count in pairs), key=lambda p: -p[1])
    if len(ranked) <= limit:
        return [(key, count, False) for key, count in ranked]
    kept, rest = ranked[: limit - 1], ranked[limit - 1:]
    rest_label = other_label.format(n=len(rest))
    return [(key, count, False) for key, count in kept] + [(rest_label, sum(c for _, c in rest), True)]


# ---------------------------------------------------------------------------------------------------
# Charts


CHART_COLOURS = {"days": "#2563eb", "clusters": "#7c3aed", "boilerplate": "#0d9488", "date-sources": "#2563eb",
                 "entities": "#2563eb", "rejects": "#dc2626", "stages": "#0891b2"}


def figure(chart_id: str, title: str, caption: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    colour = CHART_COLOURS.get(chart_id, "#2563eb")
    return (f'<section class="panel"><figure class="chart" id="chart-{chart_id}" style="--bar:{colour}">'
            f"<h2>{esc(title)}</h2><figcaption>{esc(caption)}</figcaption>{body}{note_html}"
            "</figure></section>")


def empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def y_axis(height_top: float, plot_height: float, left: float, right: float, maximum: int, step: int) -> str:
    """Horizontal grid lines with their values, every `step` from 0 to maximum."""
    parts = []
    for value in range(0, maximum + 1, step):
        y = height_top + plot_height - plot_height * value / maximum
        label = fmt_int(value)
        parts.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return "".join(parts)


def column_chart(slots: list[str], bars: list[tuple], value_labels: bool,
                 label_every: int = 1, y_title: str = "") -> str:
    """Vertical bars in equal slots along x. bars: (slot index, key, value, tooltip[, css class]); slots
    without a bar are gaps (e.g. days without articles)."""
    left, right, top, plot_height = 56, WIDTH - 12, 20, 220
    slot_width = (right - left) / len(slots)
    # x labels that would overlap their neighbours are slanted (about 7 units per character)
    slanted = any(len(label) * 7 > slot_width * label_every for label in slots[::label_every])
    height = top + plot_height + (64 if slanted else 40)
    maximum, step = count_axis(max(bar[2] for bar in bars))
    bar_width = min(64.0, max(1.0, slot_width * 0.8))  # a lone bar should not fill the whole chart
    parts = [y_axis(top, plot_height, left, right, maximum, step)]
    if y_title:
        parts.append(f'<text class="axis-title" x="14" y="{top + plot_height / 2:.0f}" '
                     f'transform="rotate(-90 14 {top + plot_height / 2:.0f})" text-anchor="middle">'
                     f"{esc(y_title)}</text>")
    for index, key, value, tooltip, *css in bars:
        bar_height = plot_height * value / maximum
        x = left + index * slot_width + (slot_width - bar_width) / 2
        y = top + plot_height - bar_height
        parts.append(mark(f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar_width:.2f}" height="{bar_height:.2f}"',
                          key, value, tooltip, *css))
        if value_labels:
            parts.append(f'<text class="value" x="{x + bar_width / 2:.1f}" y="{y - 4:.1f}" '
                         f'text-anchor="middle">{fmt_int(value)}</text>')
    for index in range(0, len(slots), label_every):
        x, y = left + (index + 0.5) * slot_width, top + plot_height + 18
        place = (f'x="{x + 4:.1f}" y="{y - 2}" text-anchor="end" transform="rotate(-40 {x + 4:.1f} {y - 2})"'
                 if slanted else f'x="{x:.1f}" y="{y}" text-anchor="middle"')
        parts.append(f'<text class="tick" {place}>{esc(slots[index])}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{top + plot_height}" '
                 f'y2="{top + plot_height}"/>')
    return svg(height, "".join(parts))


def bar_rows(rows: list[dict], maximum: float, reference: tuple[float, str] | None = None) -> str:
    """Horizontal bars, one row each: label (cut, full text in the tooltip), optional tag, bar, value text.

    A row: {"key", "label", "value", "text", "tooltip", optional "tag", "colour", "css"}."""
    label_x, tag_width, row_height, top = 250, 58, 24, 8
    has_tags = any(row.get("tag") for row in rows)
    bar_x = label_x + 10 + (tag_width if has_tags else 0)
    bar_span = WIDTH - bar_x - 170  # room for the value text
    maximum = maximum or 1.0
    parts = []
    for i, row in enumerate(rows):
        y = top + i * row_height
        width = bar_span * number(row["value"]) / maximum
        css = f' {row["css"]}' if row.get("css") else ""
        parts.append(f'<g class="row{css}"><title>{esc(row["tooltip"])}</title>'
                     f'<text class="label" x="{label_x}" y="{y + 16}" text-anchor="end">'
                     f'{esc(truncate(str(row["label"]), LABEL_CHARS))}</text>')
        if row.get("tag"):
            parts.append(f'<rect class="tag" x="{label_x + 8}" y="{y + 5}" width="{tag_width - 8}" height="15" '
                         f'rx="3" fill="{row["colour"]}"/><text class="tag-text" x="{label_x + 8 + (tag_width - 8) / 2}" '
                         f'y="{y + 16}" text-anchor="middle">{esc(truncate(str(row["tag"]), 7))}</text>')
        fill = f' style="fill:{row["colour"]}"' if row.get("colour") else ""  # beats the stylesheet's fill
        parts.append(mark(f'<rect x="{bar_x}" y="{y + 4}" width="{max(width, 1.5):.2f}" height="{row_height - 8}"'
                          f' rx="2"{fill}', row["key"], number(row["value"]), row["tooltip"]))
        parts.append(f'<text class="value" x="{bar_x + max(width, 1.5) + 6:.1f}" y="{y + 16}">'
                     f'{esc(row["text"])}</text></g>')
    height = top + len(rows) * row_height + (24 if reference else 8)
    if reference:  # drawn first, so behind the bars
        value, label = reference
        x = bar_x + bar_span * value / maximum
        parts.insert(0, f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 18}"/>'
                        f'<text class="reference-text" x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
                        f"{esc(label)}</text>")
    return svg(height, "".join(parts))


def svg(height: float, content: str) -> str:
    return (f'<svg viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
            f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">{content}</svg>')


# ---------------------------------------------------------------------------------------------------
# Sections


def days_chart(data: dict) -> str:
    span, counts, before, after = day_window(data.get("articles_per_day") or [])
    undated = int(number(data.get("undated_articles")))
    undated_note = (f"Not shown: {undated:,} article{'' if undated == 1 else 's'} without a publication date."
                    if undated else "")
    caption = ("Articles by the publication date found in the page. Look for gaps (days a source "
               "stopped publishing or the crawl missed) and spikes of old dates (misread dates).")
    if not span:
        return figure("days", "Articles per publication day", caption,
                      empty("No dated articles in this run."), esc(undated_note))
    labels = [day.isoformat() for day in span]
    bars = [(i, label, counts[day], f"{label}: {counts[day]:,} article{'s' if counts[day] != 1 else ''}")
            for i, (day, label) in enumerate(zip(span, labels)) if day in counts]
    if before:  # the tail of older dates, summed in one grey bar on the left
        labels.insert(0, "earlier")
        bars = [(i + 1, *rest) for i, *rest in bars]
        bars.insert(0, (0, "earlier", before, f"{before:,} articles dated before {span[0]}", "other"))
    if after:
        labels.append("later")
        bars.append((len(labels) - 1, "later", after, f"{after:,} articles dated after {span[-1]}", "other"))
    body = column_chart(labels, bars, value_labels=len(labels) <= 31,
                        label_every=max(1, math.ceil(len(labels) / 8)), y_title="articles")
    outside = " ".join(f"The grey bar sums the {n:,} articles dated {when} these {len(span)} days."
                       for n, when in ((before, "before"), (after, "after")) if n)
    note = f"One bar per day, {span[0]} to {span[-1]}. {outside} {undated_note}".replace("  ", " ").strip()
    return figure("days", "Articles per publication day", caption, body, esc(note))


def clusters_chart(data: dict) -> str:
    kinds = data.get("duplicate_kinds") or {}
    caption = ("How many clusters have 2, 3, … copies of one story (the article plus its duplicates). "
               "A long tail of large clusters is wire copy; a huge single cluster suggests a template "
               "page mistaken for a story.")
    bins = cluster_bins(data.get("cluster_sizes") or [])
    if not bins:
        return figure("clusters", "Duplicate cluster sizes", caption, empty("No duplicates in this run."))
    bars = [(i, label, count, f"{count:,} cluster{'s' if count != 1 else ''} of {label} documents")
            for i, (label, count) in enumerate(bins)]
    body = column_chart([label for label, _ in bins], bars, value_labels=True, y_title="clusters")
    note = (f"Documents per cluster on the x axis. Duplicates found: {fmt_int(kinds.get('exact', 0))} exact, "
            f"{fmt_int(kinds.get('near', 0))} near (MinHash).")
    return figure("clusters", "Duplicate cluster sizes", caption, body, esc(note))


def boilerplate_chart(data: dict) -> str:
    sources = [(str(source), int(number(articles)), number(share))
               for source, articles, share in data.get("boilerplate_by_source") or []]
    caption = ("Mean share of each page's text removed as boilerplate (menus, tickers, footers), for the "
               "sources with the most articles. Very high shares mean little story text survived; "
               "check those sources' extraction.")
    if not sources:
        return figure("boilerplate", "Boilerplate share per source", caption, empty("No articles in this run."))
    total = sum(articles for _, articles, _ in sources)
    mean = sum(articles * share for _, articles, share in sources) / total if total else 0.0
    shown = sorted(sources, key=lambda s: (-s[1], s[0]))[:MAX_SOURCES]
    rows = [{"key": source, "label": source, "value": share,
             "text": f"{share:.0%} · {articles:,} article{'s' if articles != 1 else ''}",
             "tooltip": f"{source}: {share:.1%} of page text removed, mean over {articles:,} articles",
             "css": "high" if share >= 0.9 else ""}
            for source, articles, share in shown]
    body = bar_rows(rows, maximum=1.0, reference=(mean, f"all sources: {mean:.0%}"))
    note = (f"Top {len(shown)} of {len(sources):,} sources by articles." if len(sources) > len(shown)
            else f"{len(sources):,} source{'s' if len(sources) != 1 else ''}.")
    return figure("boilerplate", "Boilerplate share per source", caption, body,
                  esc(note + " The dashed line is the mean over all articles; orange bars: 90% or more."))


def count_rows(pairs, limit: int, other_label: str, label_of, tooltip_of, css_of=lambda key: "") -> list[dict]:
    """Rows for a horizontal chart of counts, with each count's share of the total."""
    top = top_with_other(pairs, limit, other_label)
    total = sum(count for _, count, _ in top) or 1
    rows = []
    for key, count, is_other in top:
        label = key if is_other else label_of(key)
        rows.append({"key": label, "label": label, "value": count, "text": f"{count:,} ({count / total:.0%})",
                     "tooltip": tooltip_of(label, count), "css": "other" if is_other else css_of(key)})
    return rows


def date_sources_chart(data: dict) -> str:
    caption = ("Where each article's publication date came from. Dates from page markup are the most "
               "reliable; a large \"no date found\" bar means those articles land in the undated partition.")
    pairs = data.get("date_sources") or []
    if not pairs:
        return figure("date-sources", "Date sources", caption, empty("No articles, so no dates, in this run."))
    rows = count_rows(pairs, MAX_REASONS, "{n} other sources",
                      label_of=lambda key: "no date found" if key is None else str(key),
                      tooltip_of=lambda label, count: f"{label}: {count:,} articles",
                      css_of=lambda key: "warn" if key is None else "")
    return figure("date-sources", "Date sources", caption, bar_rows(rows, max(r["value"] for r in rows)))


def entities_chart(data: dict) -> str:
    caption = ("Canonical entities named by the most articles, coloured by type. Look for variants that "
               "should have been merged (\"U.S.\" next to \"United States\") and for junk entities.")
    entities = [(str(name), str(label), int(number(count))) for name, label, count in data.get("top_entities") or []]
    if not entities:
        return figure("entities", "Top canonical entities", caption, empty("No entities in this run."))
    shown = sorted(entities, key=lambda e: (-e[2], e[0]))[:MAX_ENTITIES]
    rows = [{"key": name, "label": name, "value": count, "tag": label, "colour": colour_of(label),
             "text": f"{count:,} article{'s' if count != 1 else ''}",
             "tooltip": f"{name} ({label}): named in {count:,} articles"}
            for name, label, count in shown]
    note = f"Top {len(shown)} of {len(entities):,} entities." if len(entities) > len(shown) else ""
    return figure("entities", "Top canonical entities", caption,
                  bar_rows(rows, max(r["value"] for r in rows)), esc(note))


def rejects_chart(data: dict) -> str:
    caption = ("Why documents were rejected rather than kept as articles. A new or suddenly larger reason "
               "usually means an input changed shape.")
    pairs = data.get("rejects_by_reason") or []
    if not pairs:
        return figure("rejects", "Rejects by reason", caption, empty("No rejects in this run."))
    rows = count_rows(pairs, MAX_REASONS, "{n} other reasons", label_of=str,
                      tooltip_of=lambda label, count: f"{label}: {count:,} documents")
    return figure("rejects", "Rejects by reason", caption, bar_rows(rows, max(r["value"] for r in rows)))


def stages_chart(data: dict) -> str:
    caption = ("Busy time per pipeline stage, summed over workers (so it can exceed the wall time). "
               "The longest bar is where a faster run would start.")
    stages = [(str(name), number(seconds)) for name, seconds in data.get("stage_seconds") or []]
    if not stages:
        return figure("stages", "Time per stage", caption, empty("No stage timings for this run."))
    total = sum(seconds for _, seconds in stages) or 1.0
    rows = [{"key": name, "label": name, "value": seconds,
             "text": f"{fmt_duration(seconds)} ({seconds / total:.0%})",
             "tooltip": f"{name}: {seconds:,.1f} s busy"} for name, seconds in stages]
    return figure("stages", "Time per stage", caption, bar_rows(rows, max(r["value"] for r in rows)))


def cards(run: dict) -> str:
    documents = run.get("documents")
    wall = number(run.get("wall_seconds"))
    rate = f"{documents / wall:,.1f}" if documents is not None and wall > 0 else "—"
    # Colour only a number that says something: articles kept (good), rejects made (bad); zero is neutral.
    tone = {"articles": "good" if number(run.get("articles")) > 0 else "",
            "rejects": "bad" if number(run.get("rejects")) > 0 else ""}
    items = [("documents", fmt_int(documents), "input documents seen"),
             ("articles", fmt_int(run.get("articles", 0)), "kept, deduplicated"),
             ("duplicates", fmt_int(run.get("duplicates", 0)), "exact and near copies"),
             ("rejects", fmt_int(run.get("rejects", 0)), "with a reason"),
             ("already ingested", fmt_int(run.get("already_ingested", 0)), "skipped: seen by an earlier run"),
             ("wall time", fmt_duration(wall), "start to commit"),
             ("docs/s", rate, "documents per wall second")]
    return '<div class="cards">' + "".join(
        f'<div class="card{" " + tone[name] if tone.get(name) else ""}" data-card="{esc(name)}">'
        f'<div class="card-value">{esc(value)}</div>'
        f'<div class="card-name">{esc(name)}</div><div class="card-hint">{esc(hint)}</div></div>'
        for name, value, hint in items) + "</div>"


def header(run: dict) -> str:
    inputs = [str(uri) for uri in run.get("inputs") or []]
    shown = "".join(f"<li><code>{esc(uri)}</code></li>" for uri in inputs[:MAX_INPUTS_SHOWN])
    if len(inputs) > MAX_INPUTS_SHOWN:
        shown += f"<li>… and {len(inputs) - MAX_INPUTS_SHOWN:,} more</li>"
    facts = [("pipeline", esc(run.get("pipeline_version") or "—")),
             ("output", f"<code>{esc(run.get('output'))}</code>"),
             ("started", esc(fmt_time(run.get("started_at")))),
             ("finished", esc(fmt_time(run.get("finished_at")))),
             ("inputs", f'<ul class="inputs">{shown}</ul>' if shown else "—")]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (f'<header><div class="brand">newsflow · run report</div>'
            f"<h1>Run <code>{esc(run.get('run_id'))}</code></h1><dl class=\"facts\">{rows}</dl></header>")


def sample_block(sample: dict) -> str:
    lines = sample.get("lines") or []
    kept = sum(1 for _, keep in lines if keep)
    fate = str(sample.get("fate") or "")
    fate_css = fate if fate in ("article", "duplicate", "reject") else "other"
    items = []
    for text, keep in lines[:MAX_SAMPLE_LINES]:
        text = truncate(str(text), MAX_LINE_CHARS)
        if keep:
            items.append(f'<li class="line kept">{esc(text)}</li>')
        else:
            items.append(f'<li class="line removed"><span class="marker">removed</span><s>{esc(text)}</s></li>')
    if len(lines) > MAX_SAMPLE_LINES:
        rest = lines[MAX_SAMPLE_LINES:]
        removed = sum(1 for _, keep in rest if not keep)
        items.append(f'<li class="more">… {len(rest):,} more lines ({removed:,} of them removed)</li>')
    body = f'<ol class="lines">{"".join(items)}</ol>' if items else empty("No lines: the page had no text.")
    title = sample.get("title")
    return (f'<article class="sample" data-fate="{esc(fate)}"><div class="sample-head">'
            f'<span class="fate {fate_css}">{esc(fate or "?")}</span>'
            f'<h3>{esc(title) if title else "<em>untitled</em>"}</h3></div>'
            f'<div class="sample-meta"><code>{esc(sample.get("source_uri"))}</code> · doc '
            f'<code>{esc(sample.get("doc_id"))}</code> · {kept:,} of {len(lines):,} lines kept</div>'
            f"{body}</article>")


def samples_section(data: dict) -> str:
    samples = data.get("samples") or []
    caption = ("A few documents as the cleaner saw them: kept lines as they are, removed boilerplate "
               "struck through. Check that no story text was removed and no page chrome kept.")
    blocks = "".join(sample_block(s) for s in samples[:MAX_SAMPLES]) or empty("No sample documents.")
    return (f'<section class="panel" id="samples"><h2>Sample documents</h2>'
            f'<p class="caption">{esc(caption)}</p>{blocks}</section>')


# ---------------------------------------------------------------------------------------------------
# The page

CSS = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --panel:#fff; --accent:#2563eb;
        --warn:#d97706; --bad:#dc2626; --good:#0d9488; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif; }
main { max-width:1080px; margin:0 auto; padding:24px 20px 48px; }
header { margin-bottom:18px; }
.brand { color:var(--accent); font-weight:600; letter-spacing:.04em; text-transform:uppercase; font-size:12px; }
h1 { font-size:24px; margin:4px 0 12px; overflow-wrap:anywhere; }
h2 { font-size:17px; margin:0 0 2px; }
h3 { font-size:15px; margin:0; overflow-wrap:anywhere; }
code { font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",monospace; overflow-wrap:anywhere; }
.facts { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:0; color:var(--ink); }
.facts dt { color:var(--muted); }
.facts dd { margin:0; }
.inputs { margin:0; padding:0; list-style:none; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(128px,1fr)); gap:10px; margin:18px 0; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card-value { white-space:nowrap; font-size:21px; font-weight:650; font-variant-numeric:tabular-nums; }
.card-name { font-weight:600; font-size:12.5px; white-space:nowrap; }
.card-hint { color:var(--muted); font-size:11.5px; }
.card.bad .card-value { color:var(--bad); }
.card.good .card-value { color:var(--good); }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:16px 18px;
         margin:14px 0; }
figure { margin:0; }
figcaption, .caption { color:var(--muted); margin:0 0 10px; max-width:80ch; }
.note { color:var(--muted); font-size:12.5px; margin:6px 0 0; }
.empty { color:var(--muted); font-style:italic; background:var(--bg); border:1px dashed var(--line);
         border-radius:6px; padding:18px; text-align:center; margin:4px 0; }
svg { display:block; overflow:visible; }
svg text { font-family:inherit; }
.mark { fill:var(--bar, var(--accent)); }
.mark:hover, .row:hover .mark { opacity:.75; }
.row.high .mark, .row.warn .mark { fill:var(--warn); }
.row.other .mark, .mark.other { fill:#94a3b8; }
.grid { stroke:var(--line); }
.axis { stroke:#94a3b8; }
.tick { fill:var(--muted); font-size:11px; }
.axis-title { fill:var(--muted); font-size:11px; }
.value { fill:var(--ink); font-size:11.5px; font-variant-numeric:tabular-nums; }
.label { fill:var(--ink); font-size:12.5px; }
.tag-text { fill:#fff; font-size:10px; font-weight:600; }
.reference { stroke:var(--ink); stroke-dasharray:4 3; opacity:.6; }
.reference-text { fill:var(--muted); font-size:11px; }
.sample { border-top:1px solid var(--line); padding:12px 0 4px; }
.sample:first-of-type { border-top:0; }
.sample-head { display:flex; gap:10px; align-items:center; }
.sample-meta { color:var(--muted); font-size:12.5px; margin:2px 0 8px; overflow-wrap:anywhere; }
.fate { font-size:11px; font-weight:600; text-transform:uppercase; border-radius:4px; padding:1px 7px;
        color:#fff; background:#64748b; }
.fate.article { background:var(--good); } .fate.duplicate { background:#7c3aed; } .fate.reject { background:var(--bad); }
.lines { margin:0; padding:8px 12px 8px 44px; background:var(--bg); border-radius:6px;
         font:12.5px/1.55 ui-monospace,"DejaVu Sans Mono",monospace; }
.line { overflow-wrap:anywhere; white-space:pre-wrap; }
.line.removed { color:#94a3b8; }
.line.removed s { text-decoration-color:#cbd5e1; }
.marker { font:600 10px system-ui,sans-serif; text-transform:uppercase; color:var(--bad); background:#fee2e2;
          border-radius:3px; padding:0 4px; margin-right:8px; }
.more { list-style:none; color:var(--muted); font-style:italic; }
nav { font-size:12.5px; color:var(--muted); }
nav a { color:var(--accent); text-decoration:none; margin-right:12px; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
"""

# No scripts, no fetches: only the inline styles run. A second guard behind the escaping.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

SECTIONS = [("days", "Publication days"), ("clusters", "Duplicates"), ("boilerplate", "Boilerplate"),
            ("date-sources", "Date sources"), ("entities", "Entities"), ("rejects", "Rejects"),
            ("stages", "Stages")]


def render_report(data: dict) -> str:
    """The whole report as one HTML document (str)."""
    run = data.get("run") or {}
    nav = "".join(f'<a href="#chart-{key}">{name}</a>' for key, name in SECTIONS) + '<a href="#samples">Samples</a>'
    body = "".join([
        header(run), cards(run), f"<nav>{nav}</nav>",
        days_chart(data), clusters_chart(data), boilerplate_chart(data), date_sources_chart(data),
        entities_chart(data), rejects_chart(data), stages_chart(data), samples_section(data),
    ])
    version = esc(run.get("pipeline_version") or "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newsflow run {esc(run.get('run_id'))}</title><style>{CSS}</style></head>"
        f"<body><main>{body}<footer>newsflow {version} · self-contained report: no scripts, nothing "
        "fetched</footer></main></body></html>\n"
    )


def write_report(path_or_uri: str, data: dict) -> None:
    """Render and write the report, atomically."""
    document = render_report(data).encode("utf-8", errors="replace")  # lone surrogates from bad input
    write_atomically(*filesystem(path_or_uri), document)
