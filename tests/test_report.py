"""The run report (pipelines/report.py): shaping rules in plain Python, then the page in a real headless
chromium: it renders, every chart has one mark per data point with the right values, nothing is fetched,
nothing logs an error, hostile strings stay text, and a screenshot is a real, non-blank picture.

The browser tests skip when chromium or playwright is missing, except under CI (CI set), where they fail."""
from __future__ import annotations

import datetime as dt
import os
import re
import struct
from collections import Counter

import fsspec
import pytest
import report_fixtures as fixtures
from browser import VIEWPORT, Browser, missing_browser_reason
from cli_runs import ROOT

from pipelines.report import (
    cluster_bins,
    count_axis,
    day_window,
    render_report,
    top_with_other,
    write_report,
)
from schemas.tables import ARTICLES, REJECTS
from storage.visible import open_table

SAMPLE_DUMP = ROOT / "samples" / "dump"

CHARTS = ["days", "clusters", "boilerplate", "date-sources", "entities", "rejects", "stages"]

# {chart id: [[data-key, data-value, tooltip, drawn with a non-zero size]]}
MARKS_JS = """Object.fromEntries(Array.from(document.querySelectorAll('figure.chart')).map(f => [f.id,
  Array.from(f.querySelectorAll('.mark')).map(m => {
    const box = m.getBoundingClientRect();
    const title = m.querySelector('title');
    return [m.dataset.key, Number(m.dataset.value), title ? title.textContent : '', box.width > 0 && box.height > 0];
  })]))"""

PAGE_JS = {
    "marks": MARKS_JS,
    "figures": "Array.from(document.querySelectorAll('figure.chart')).map(f => f.id)",
    "empty": "Array.from(document.querySelectorAll('figure.chart .empty')).map(e => e.closest('figure').id)",
    "h1": "document.querySelector('h1').textContent",
    "h2": "Array.from(document.querySelectorAll('h2')).map(h => h.textContent)",
    "scripts": "document.querySelectorAll('script').length",
    "external": "document.querySelectorAll('[src], [srcset], link, iframe, object, embed, a[href]:not([href^=\\'#\\'])').length",
    "pwned": "typeof window.__pwned",
    "text": "document.body.innerText",
    "overflow": "document.documentElement.scrollWidth - window.innerWidth",
    "removed_lines": "document.querySelectorAll('.line.removed').length",
    "kept_lines": "document.querySelectorAll('.line.kept').length",
    "cards": "Object.fromEntries(Array.from(document.querySelectorAll('.card')).map("
             "c => [c.dataset.card, c.querySelector('.card-value').textContent]))",
}


# ---------------------------------------------------------------------------------------------------
# Shaping rules, no browser


def test_every_bar_is_a_day_and_a_long_tail_of_old_dates_is_summed():
    days = [["2024-03-04", 2], ["2024-03-10", 3], ["2024-03-11", 5], ["not a day", 9]]
    span, counts, before, after = day_window(days)
    assert (span[0], span[-1], len(span)) == (dt.date(2024, 3, 4), dt.date(2024, 3, 11), 8)
    assert sum(counts.values()) == 10 and (before, after) == (0, 0)
    # A nightly delivery: 90 recent days, and a few pages with dates years old (archives, misread dates).
    recent = [[(dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat(), 5] for i in range(90)]
    old = [["2019-06-01", 1], ["2021-02-03", 2]]
    span, counts, before, after = day_window(old + recent)
    assert (span[0], span[-1]) == (dt.date(2024, 1, 1), dt.date(2024, 3, 30))
    assert sum(counts.values()) == 450 and (before, after) == (3, 0)


def test_the_day_window_is_the_busiest_120_days():
    quiet = [[(dt.date(2023, 1, 1) + dt.timedelta(days=i)).isoformat(), 1] for i in range(200)]
    busy = [[(dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat(), 9] for i in range(30)]
    late = [["2025-06-01", 1]]
    span, counts, before, after = day_window(quiet + busy + late)
    assert len(span) <= 120 and span[-1] == dt.date(2024, 1, 30)
    assert (before + sum(counts.values()) + after, after) == (200 + 270 + 1, 1)


def test_cluster_sizes_bin_the_long_tail_only_when_there_are_many():
    assert cluster_bins([[2, 5], [3, 1]]) == [("2", 5), ("3", 1)]
    bins = cluster_bins([[size, 1] for size in range(2, 100)])
    assert [label for label, _ in bins][-4:] == ["20", "21–32", "33–64", "65–128"]
    assert sum(count for _, count in bins) == 98


def test_top_with_other_sums_the_rest():
    rows = top_with_other([[f"r{i}", i] for i in range(10)], 4, "{n} other reasons")
    assert rows == [("r9", 9, False), ("r8", 8, False), ("r7", 7, False), ("7 other reasons", 21, True)]


def test_count_axes_have_whole_number_ticks_that_fit_the_data():
    assert count_axis(1) == (1, 1)  # bars of 1: an axis to 1, not to 4
    assert count_axis(3) == (3, 1) and count_axis(7) == (8, 2) and count_axis(47) == (50, 10)
    for top in (1, 2, 3, 5, 6, 30, 47, 99, 100, 130, 451, 1210, 9_999, 123_456):
        maximum, step = count_axis(top)
        assert maximum >= top and maximum % step == 0 and maximum // step <= 5
        assert maximum - step < top  # the top tick is the first one at or above the tallest bar


def test_zero_rejects_are_shown_in_a_neutral_colour():
    assert 'class="card bad" data-card="rejects"' in render_report(fixtures.rich())
    zero = fixtures.rich()
    zero["run"]["rejects"] = 0
    assert 'class="card" data-card="rejects"' in render_report(zero)


def test_hostile_strings_are_escaped_and_the_page_has_no_script_and_no_url():
    page = render_report(fixtures.hostile())
    assert "<script" not in page and "<img" not in page and "<svg onload" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert not re.search(r'(?:src|href|action|srcset)="(?!#)', page)  # only links within the page


def test_empty_run_renders_every_empty_state():
    page = render_report(fixtures.empty())
    for text in ("No dated articles", "No duplicates in this run", "No rejects in this run",
                 "No entities in this run", "No sample documents"):
        assert text in page
    assert 'class="mark"' not in page


def test_large_run_stays_small():
    page = render_report(fixtures.large())
    assert len(page.encode()) < 400_000
    assert len(re.findall(r'class="mark[ "]', page)) < 260  # 120 days and 2 grey ones, 25 sources, 30 entities, 20 + 20 reasons


def test_write_report_is_atomic_through_fsspec(tmp_path):
    target = tmp_path / "_runs" / "run-1.html"
    write_report(str(target), fixtures.rich())
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert os.listdir(target.parent) == ["run-1.html"]  # no temporary file left
    write_report("memory://out/_runs/run-2.html", fixtures.empty())
    fs = fsspec.filesystem("memory")
    assert [posixpath_name(p) for p in fs.ls("/out/_runs", detail=False)] == ["run-2.html"]


def posixpath_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------------
# In the browser


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but: {reason}")
        pytest.skip(reason)
    with Browser() as session:
        yield session


def open_report(browser, tmp_path, data, name="report", **options):
    path = tmp_path / f"{name}.html"
    write_report(str(path), data)
    return browser.render(path, expressions=PAGE_JS, **options)


def assert_clean(rendered):
    """Nothing logged an error, nothing was thrown, nothing was fetched, no script, nothing too wide."""
    assert rendered.console_errors == []
    assert rendered.page_errors == []
    assert rendered.requests == [] and rendered.failed_requests == []
    assert rendered.values["scripts"] == 0 and rendered.values["external"] == 0
    assert rendered.values["overflow"] <= 0


def keys_and_values(marks):
    return [[key, value] for key, value, _, _ in marks]


def assert_marks_drawn(marks):
    """Every mark has a tooltip, and every mark with a value > 0 has a visible size."""
    assert all(title for _, _, title, _ in marks)
    assert all(drawn for _, value, _, drawn in marks if value > 0)


@pytest.mark.slow
def test_rich_report_renders_every_chart_with_its_data(browser, tmp_path):
    data = fixtures.rich()
    rendered = open_report(browser, tmp_path, data)
    assert_clean(rendered)
    values = rendered.values
    assert rendered.title == f"newsflow run {data['run']['run_id']}"
    assert data["run"]["run_id"] in values["h1"]
    assert "Sample documents" in values["h2"]
    assert values["figures"] == [f"chart-{chart}" for chart in CHARTS]
    assert values["empty"] == []
    marks = values["marks"]
    for chart in CHARTS:
        assert_marks_drawn(marks[f"chart-{chart}"])

    assert keys_and_values(marks["chart-days"]) == data["articles_per_day"]
    assert keys_and_values(marks["chart-clusters"]) == [[str(s), n] for s, n in data["cluster_sizes"]]
    top_sources = sorted(data["boilerplate_by_source"], key=lambda s: -s[1])[:25]
    assert [[k, round(v, 4)] for k, v in keys_and_values(marks["chart-boilerplate"])] == [
        [source, share] for source, _, share in top_sources]
    assert keys_and_values(marks["chart-date-sources"]) == [
        ["no date found" if key is None else key, n] for key, n in data["date_sources"]]
    assert keys_and_values(marks["chart-entities"]) == [
        [name, n] for name, _, n in sorted(data["top_entities"], key=lambda e: -e[2])]
    assert keys_and_values(marks["chart-rejects"]) == data["rejects_by_reason"]
    assert keys_and_values(marks["chart-stages"]) == data["stage_seconds"]

    assert values["cards"]["documents"] == "18,240" and values["cards"]["rejects"] == "611"
    lines = [line for sample in data["samples"] for line in sample["lines"][:60]]
    assert values["removed_lines"] == sum(1 for _, kept in lines if not kept)
    assert values["kept_lines"] == sum(1 for _, kept in lines if kept)
    assert "… 25 more lines" in values["text"]


@pytest.mark.slow
def test_empty_report_shows_every_empty_state(browser, tmp_path):
    rendered = open_report(browser, tmp_path, fixtures.empty())
    assert_clean(rendered)
    assert rendered.values["empty"] == [f"chart-{chart}" for chart in CHARTS]
    assert all(marks == [] for marks in rendered.values["marks"].values())
    assert "No sample documents" in rendered.values["text"]


@pytest.mark.slow
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_strings_show_as_text_and_never_run(browser, tmp_path, bypass_csp):
    """With the page's CSP ignored too: escaping alone must keep the injected markup inert."""
    rendered = open_report(browser, tmp_path, fixtures.hostile(), bypass_csp=bypass_csp)
    assert_clean(rendered)
    values = rendered.values
    assert values["pwned"] == "undefined"
    assert rendered.title == f"newsflow run run{fixtures.SCRIPT}"
    for text in (fixtures.SCRIPT, fixtures.IMG, "Владимир Иванов", "עיתון ירושלים", "javascript:window.__pwned=6",
                 "</title><h1>x</h1>", "\"quoted\" & 'single'"):
        assert text in values["text"]
    tooltips = [title for marks in values["marks"].values() for _, _, title, _ in marks]
    assert any(fixtures.LONG.strip() in title for title in tooltips)  # the full label, cut on screen
    assert values["marks"]["chart-entities"][0][0] == fixtures.SCRIPT


@pytest.mark.slow
def test_large_report_aggregates_and_renders(browser, tmp_path):
    data = fixtures.large()
    rendered = open_report(browser, tmp_path, data)
    assert_clean(rendered)
    marks = rendered.values["marks"]
    span, counts, before, after = day_window(data["articles_per_day"])
    drawn = [["earlier", before]] if before else []
    drawn += [[day.isoformat(), counts[day]] for day in span if day in counts]
    drawn += [["later", after]] if after else []
    assert keys_and_values(marks["chart-days"]) == drawn
    assert sum(n for _, n in drawn) == sum(n for _, n in data["articles_per_day"])
    assert len(span) == 120  # 1000 days of news: the busiest 120 as days, the rest in the grey bars
    assert len(marks["chart-boilerplate"]) == 25
    assert len(marks["chart-entities"]) == 30
    rejects = marks["chart-rejects"]
    assert len(rejects) == 20 and rejects[-1][0] == "41 other reasons"
    assert sum(value for _, value, _, _ in rejects) == sum(n for _, n in data["rejects_by_reason"])
    assert sum(value for _, value, _, _ in marks["chart-clusters"]) == sum(n for _, n in data["cluster_sizes"])
    for chart in CHARTS:
        assert_marks_drawn(marks[f"chart-{chart}"])


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's signature and IHDR chunk; fails on anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@pytest.mark.slow
def test_screenshot_is_a_real_picture(browser, tmp_path):
    from PIL import Image  # Pillow comes with apache-beam

    shot = tmp_path / "report.png"
    rendered = open_report(browser, tmp_path, fixtures.rich(), screenshot=shot)
    assert_clean(rendered)
    width, height = png_size(shot)
    assert width == VIEWPORT["width"] and height > 2 * VIEWPORT["height"]  # full page, not just the viewport
    image = Image.open(shot).convert("RGB")
    assert image.size == (width, height)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 100  # text, anti-aliasing and bars; a blank page has one or two
    background = max(colours)[0] / (width * height)
    assert background < 0.9
    palette = {rgb for _, rgb in colours}
    for hex_colour in ("#2563eb", "#7c3aed", "#dc2626"):  # the bars of three charts are drawn
        assert tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)) in palette


@pytest.mark.slow
def test_the_report_of_a_real_run_renders_its_tables(browser, tmp_path, sample_dataset):
    """The report `newsflow ingest` publishes, on the sample dump: its charts hold the run's rows."""
    out, _ = sample_dataset
    (page,) = (out / "_runs").glob("*.html")
    rendered = browser.render(page, expressions=PAGE_JS, screenshot=tmp_path / "real.png")
    assert_clean(rendered)
    marks = rendered.values["marks"]
    articles = open_table(str(out), ARTICLES).to_table().to_pylist()
    days = Counter(row["published_date"].isoformat() for row in articles if row["published_date"])
    assert keys_and_values(marks["chart-days"]) == sorted([day, n] for day, n in days.items())
    sources = Counter(row["date_source"] or "no date found" for row in articles)
    assert dict(keys_and_values(marks["chart-date-sources"])) == dict(sources)
    rejects = Counter(row["reason"] for row in open_table(str(out), REJECTS).to_table().to_pylist())
    assert dict(keys_and_values(marks["chart-rejects"])) == dict(rejects)
    assert {key for key, _ in keys_and_values(marks["chart-boilerplate"])} >= {"fenwick-post", "wirepress"}
    assert rendered.values["removed_lines"] > 0 and rendered.values["kept_lines"] > 0
    assert "Share this:" in rendered.values["text"]  # a removed line of a sample page, shown struck through
