"""The evaluation discipline every quality benchmark shares: which gold corpora exist, how each page
maps to its site, and which half of every corpus is the *check* half.

The check half is fixed by a hash of the page's site (the publisher's brand: `bbc.co.uk`, `www.bbc.com`
and readability's `bbc` group are one site), so a site is wholly in one half, in every corpus at once:
a site whose pages are check pages in one corpus is never tuning data through another. Nothing that is
tuned, searched or trained may read a check page: `tune_items` gives what they may read, `check_items`
what they are scored on. Anything learned is also scored leave-one-corpus-out (`other_corpora`).

The salt was picked, before any score was computed, as the first that puts cleanportaleval's two
sites in different halves; every other corpus then has 35-55 % of its pages in the check half.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CHECK_SALT = "newsflow-check-7"
# The six corpora with a gold article body for whole-page text dumps (and their HTML).
BODY_CORPORA = ("aeb-text", "dragnet", "l3s-gn1", "cleanportaleval", "readability", "newspaper")
# Labels that end a host name but do not name its publisher: "bbc.co.uk" -> "bbc".
_HOST_SUFFIXES = frozenset(re.findall(
    r"\w+",
    "com co uk org net de fr es it nl au ca in br ru ch at gov edu ac info io us jp cn nz ie be pl se no dk "
    "fi cz pt gr il za mx ar tv eu biz news blog me ph sg hk kr tw my ae sa pk ng ke eg tr ua ro hu sk bg "
    "hr rs si lt lv ee is lu cl pe ve uy",
))


@dataclass(frozen=True)
class Page:
    corpus: str
    key: str  # the path gold.json gives it, relative to the corpus folder
    site: str
    gold: dict

    @property
    def check(self) -> bool:
        return is_check(self.site)


def brand(host_or_folder: str) -> str:
    """A publisher's name from its host: `www.bbc.co.uk` -> `bbc`, `10q.blogspot.com` -> `blogspot`."""
    host = host_or_folder.lower().split(":")[0]
    labels = [label for label in host.split(".") if label and label != "www"]
    while len(labels) > 1 and labels[-1] in _HOST_SUFFIXES:
        labels.pop()
    return labels[-1] if labels else host


def is_check(site: str) -> bool:
    return hashlib.sha256(f"{CHECK_SALT}:{site}".encode()).digest()[0] & 1 == 1


def site_of(corpus: str, key: str, gold: dict) -> str:
    """Body corpora keep a folder per site; the date corpora name the page's address in the gold; the
    wire and CoNLL corpora have no site, so each story is its own."""
    if "/" in key and corpus not in ("reuters",):
        return brand(key.split("/")[0])
    if gold.get("url"):
        return brand(urlsplit(gold["url"]).netloc)
    return f"{corpus}/{key}"


def exists(root: Path = DEFAULT_CORPUS) -> bool:
    return (root / "dev").is_dir()


def pages(corpus: str, root: Path = DEFAULT_CORPUS) -> list[Page]:
    """Every gold page of a corpus, in a stable order."""
    gold = json.loads((root / "dev" / corpus / "gold.json").read_text())
    return [Page(corpus, key, site_of(corpus, key, entry), entry) for key, entry in sorted(gold.items())]


def tune_items(items: list[Page]) -> list[Page]:
    return [page for page in items if not page.check]


def check_items(items: list[Page]) -> list[Page]:
    return [page for page in items if page.check]


def other_corpora(corpus: str, corpora: tuple[str, ...] = BODY_CORPORA) -> tuple[str, ...]:
    return tuple(name for name in corpora if name != corpus)


def text_path(page: Page, root: Path = DEFAULT_CORPUS) -> Path:
    return root / "dev" / page.corpus / page.key


def read_text_dump(page: Page, root: Path = DEFAULT_CORPUS) -> str:
    return text_path(page, root).read_text(encoding="utf-8", errors="replace")


def read_html(page: Page, root: Path = DEFAULT_CORPUS) -> str:
    """The page's HTML: aeb keeps it in aeb-html/, the other body corpora beside the text, gzipped."""
    if page.corpus == "aeb-text":
        return (root / "dev" / "aeb-html" / page.key.replace(".txt", ".html")).read_text(errors="replace")
    raw = gzip.decompress((root / "dev" / page.corpus / page.key.replace(".txt", ".html.gz")).read_bytes())
    return raw.decode("utf-8", errors="replace")


def iter_split(items: list[Page]) -> Iterator[tuple[str, list[Page]]]:
    yield "tune", tune_items(items)
    yield "check", check_items(items)


# ---------------------------------------------------------------------------------------------
# The Zyte article-extraction metric
# ---------------------------------------------------------------------------------------------

SHINGLE = 4  # words per shingle, as in the Zyte benchmark
_TOKEN = re.compile(r"\w+")


def shingles(text: str) -> Counter:
    tokens = _TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def tp_fp_fn(gold: str, predicted: str) -> tuple[float, float, float]:
    truth, guess = shingles(gold), shingles(predicted)
    return (
        float(sum((truth & guess).values())),
        float(sum((guess - truth).values())),
        float(sum((truth - guess).values())),
    )


def page_precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def page_recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def macro_scores(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1): per-page scores averaged over pages, F1 of the two averages.

    A page with no predicted shingle has no precision (it is left out of that average) and zero recall,
    exactly as in the benchmark's evaluate.py.
    """
    precision = statistics.mean([page_precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    recall = statistics.mean([page_recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def difference(tune: float, check: float) -> str:
    """The tune-vs-check gap printed beside every figure."""
    return f"tune-check {tune - check:+.3f}"
