"""Invented run-report data dicts (pipelines/report.py's contract): rich, empty, hostile and large.

All text is made up; numbers are shaped like a real run's (a weekly rhythm, a long tail of clusters)."""
from __future__ import annotations

import datetime as dt
import random


def run_info(**overrides) -> dict:
    run = {
        "run_id": "20240412T083015Z-7f3a9c",
        "pipeline_version": "0.1.0",
        "started_at": "2024-04-12T08:30:15.412000+00:00",
        "finished_at": "2024-04-12T08:41:02.877000+00:00",
        "wall_seconds": 647.47,
        "output": "s3://newsroom-lake/newsflow",
        "inputs": ["s3://newsroom-dumps/2024-04/wire/", "s3://newsroom-dumps/2024-04/regional.warc.gz"],
        "documents": 18240,
        "articles": 14210,
        "duplicates": 3305,
        "rejects": 611,
        "already_ingested": 114,
    }
    run.update(overrides)
    return run


SOURCES = ["harbourgazette.example", "northvale-herald.example", "dailyledger.example", "metro-wire.example",
           "the-valley-times.example", "coastalpost.example", "capitalcourier.example", "riverbend.example",
           "eveningstandard-ish.example", "ridgeline-news.example", "plainsreporter.example",
           "islandchronicle.example", "summit-observer.example", "lakeside-bulletin.example",
           "frontier-dispatch.example", "market-street-journal.example", "granite-state-echo.example",
           "old-mill-tribune.example", "parkway-press.example", "westbank-review.example",
           "highland-sentinel.example", "bayview-daily.example", "sunrise-monitor.example",
           "cedar-county-record.example", "union-square-post.example", "pinecrest-voice.example",
           "very-long-subdomain.regional-news-network-of-the-northern-territories.example"]

ENTITIES = [("Northvale City Council", "ORG", 812), ("Maria Okonkwo-Reyes", "PERSON", 640),
            ("Harbour Transit Authority", "ORG", 512), ("Northvale", "GPE", 1490), ("Eastmarch", "GPE", 977),
            ("Daniel Aventi", "PERSON", 431), ("Riverbend Hospital", "FAC", 210),
            ("Coastal Fishers Union", "ORG", 388), ("Lake Amara", "LOC", 175), ("Eastmarchian", "NORP", 160),
            ("Summer Arts Festival", "EVENT", 120), ("Westbank Bridge", "FAC", 98),
            ("Granite Mining Co.", "ORG", 301), ("Priya Raman", "PERSON", 266), ("Port Selwyn", "GPE", 244)]

REJECTS = [("empty after boilerplate removal", 302), ("too short (under 40 words)", 170),
           ("not a news article (listing page)", 71), ("unreadable: binary content", 38),
           ("language not supported", 22), ("larger than --max-document-bytes", 8)]

STAGES = [("read", 41.2), ("clean", 118.6), ("language", 12.4), ("dates", 66.9), ("dedupe", 87.3),
          ("entities", 402.8), ("write", 33.1)]


def articles_per_day(start: dt.date, days: int, rng: random.Random) -> list[list]:
    out = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        weekend = day.weekday() >= 5
        base = 140 if weekend else 380
        if i % 17 == 5:  # an invented day the crawl missed
            continue
        out.append([day.isoformat(), int(base * (0.8 + 0.4 * rng.random()))])
    return out


def samples() -> list[dict]:
    story = [
        ("Home | News | Sport | Weather | Opinion | Subscribe", False),
        ("BREAKING: Ferry services suspended on the north route", False),
        ("Council approves new harbour ferry timetable", True),
        ("By Maria Okonkwo-Reyes, transport correspondent", True),
        (("NORTHVALE, April 11 — The Northvale City Council voted 7-2 on Thursday to approve a new ferry "
         "timetable that adds two early-morning crossings to Port Selwyn from June."), True),
        (("The Harbour Transit Authority said the extra sailings would cost about 1.2 million a year, to be "
         "covered by a fare rise of 30 cents for single tickets."), True),
        ("Advertisement", False),
        ("\"Commuters have been asking for this for years,\" councillor Daniel Aventi said after the vote.", True),
        ("Opponents argued that the fare rise falls hardest on students and shift workers.", True),
        ("Share this article: Facebook Twitter Email", False),
        ("Related: Westbank Bridge closure extended to May", False),
        ("© 2024 Harbour Gazette. All rights reserved. Privacy | Terms | Cookies", False),
    ]
    duplicate = [("Northvale Herald — Local news since 1921", False),
                 ("Council approves new harbour ferry timetable", True),
                 (("NORTHVALE, April 11 (Metro Wire) — The Northvale City Council voted 7-2 on Thursday to "
                  "approve a new ferry timetable that adds two early-morning crossings."), True),
                 ("Sign up for our morning briefing", False)]
    long_page = [(f"Market table row {i}: grain futures {100 + i}.{i % 10}", i % 3 == 0) for i in range(85)]
    return [
        {"doc_id": "a3f09c21d4e8", "source_uri": "s3://newsroom-dumps/2024-04/wire/harbourgazette/ferry.html",
         "title": "Council approves new harbour ferry timetable", "fate": "article", "lines": story},
        {"doc_id": "77be01aa93c0", "source_uri": "s3://newsroom-dumps/2024-04/regional.warc.gz#record=1442",
         "title": "Council approves new harbour ferry timetable", "fate": "duplicate", "lines": duplicate},
        {"doc_id": "0c55e7f2b611", "source_uri": "s3://newsroom-dumps/2024-04/wire/markets/grain-table.txt",
         "title": None, "fate": "reject", "lines": long_page},
    ]


def rich() -> dict:
    """A plausible six-week run with every series filled."""
    rng = random.Random(7)
    boilerplate = [[source, int(2400 / (i + 1)) + 3, round(0.35 + 0.5 * rng.random(), 4)]
                   for i, source in enumerate(SOURCES)]
    boilerplate[4][2] = 0.94  # one source whose extraction keeps almost nothing
    return {
        "run": run_info(),
        "articles_per_day": articles_per_day(dt.date(2024, 3, 1), 42, rng),
        "undated_articles": 87,
        "cluster_sizes": [[2, 1210], [3, 402], [4, 166], [5, 71], [6, 38], [7, 20], [8, 12], [9, 7], [11, 4],
                          [14, 2], [23, 1]],
        "duplicate_kinds": {"exact": 1904, "near": 1401},
        "boilerplate_by_source": boilerplate,
        "date_sources": [["html-markup", 9120], ["json-ld", 2710], ["dateline", 1455], ["url-path", 610],
                         ["body-relative", 228], [None, 87]],
        "top_entities": [list(e) for e in ENTITIES],
        "rejects_by_reason": [list(r) for r in REJECTS],
        "stage_seconds": [list(s) for s in STAGES],
        "samples": samples(),
    }


def empty() -> dict:
    """A run that read nothing: every series empty."""
    return {
        "run": run_info(documents=0, articles=0, duplicates=0, rejects=0, already_ingested=0, wall_seconds=1.2,
                        inputs=[]),
        "articles_per_day": [], "undated_articles": 0, "cluster_sizes": [],
        "duplicate_kinds": {"exact": 0, "near": 0}, "boilerplate_by_source": [], "date_sources": [],
        "top_entities": [], "rejects_by_reason": [], "stage_seconds": [], "samples": [],
    }


SCRIPT = "<script>window.__pwned = 1</script>"
IMG = "<img src=x onerror=\"window.__pwned = 2\">"
LONG = "Ministry-of-Extremely-Long-Department-Names-And-Other-Administrative-Subdivisions " * 4


def hostile() -> dict:
    """Scraped strings that try to break out of the page: markup, quotes, huge labels, other scripts."""
    data = rich()
    data["run"] = run_info(run_id=f"run{SCRIPT}", output=f"file:///tmp/\"quoted\" & 'single' {IMG}",
                           inputs=[f"/dumps/{SCRIPT}.txt"], pipeline_version="</title><h1>x</h1>")
    data["boilerplate_by_source"] = [[SCRIPT, 50, 0.5], [LONG, 40, 0.4], ["新闻网.example", 30, 0.3],
                                     ["صحيفة.example", 20, 0.2], ["\"><svg onload=alert(1)>", 10, 0.1]]
    data["top_entities"] = [[SCRIPT, "ORG", 9], ["Владимир Иванов", "PERSON", 8], ["東京", "GPE", 7],
                            [LONG, "ORG", 6], ["x\"onmouseover=\"window.__pwned=3", "<b>", 5]]
    data["rejects_by_reason"] = [[IMG, 3], ["ok & fine", 2]]
    data["date_sources"] = [["]]></title><script>window.__pwned=4</script>", 5], [None, 1]]
    data["stage_seconds"] = [["</svg><script>window.__pwned=5</script>", 1.0]]
    data["samples"] = [{"doc_id": SCRIPT, "source_uri": "javascript:window.__pwned=6", "title": IMG,
                        "fate": "<i>reject</i>",
                        "lines": [[SCRIPT, True], [IMG, False], ["עיתון ירושלים", True], [LONG * 20, True]]}]
    return data


def large() -> dict:
    """Years of days, thousands of sources, hundreds of cluster sizes and reasons, big samples."""
    rng = random.Random(11)
    data = rich()
    data["articles_per_day"] = articles_per_day(dt.date(2021, 1, 1), 1000, rng)
    data["boilerplate_by_source"] = [[f"source-{i:04d}.example", rng.randint(1, 5000), rng.random()]
                                     for i in range(5000)]
    data["cluster_sizes"] = [[size, max(1, 5000 // size ** 2)] for size in range(2, 400)]
    data["top_entities"] = [[f"Entity {i}", ["ORG", "PERSON", "GPE"][i % 3], 10_000 - i] for i in range(500)]
    data["rejects_by_reason"] = [[f"reason {i}", 100 + i] for i in range(60)]
    data["samples"] = samples() * 10
    return data
