"""Dedupe functions: hashing, MinHash candidates, the look-alike guard, cluster resolution."""
import dataclasses
import datetime as dt

from schemas.records import Document
from transforms.dedupe import (
    MAX_BUCKET_FOR_ALL_PAIRS,
    band_keys,
    bucket_pairs,
    candidate_of,
    content_hash,
    details_conflict,
    estimated_jaccard,
    garbled_marks,
    is_near_duplicate,
    kept_order,
    page_group,
    page_key,
    resolve_clusters,
    text_of_source,
    verified_pairs,
    with_cluster_date,
)

WIRE = (
    "The regional water authority said on Tuesday it would raise reservoir releases after a dry winter "
    "left the Meridian basin at its lowest level in eleven years. Officials told farmers that irrigation "
    "quotas would be cut by a fifth from April, and that a second review would follow in June. "
    "The authority's chair, Lena Osterberg, said the decision balanced the needs of growers and towns. "
    "Farm groups called the cut painful but fair, and asked for faster payments from the drought fund. "
    "Engineers expect the spring melt to lift levels only slightly, the authority said in a statement. "
)
EDITED = WIRE.replace("The authority's chair", "Its chair").replace("Tuesday", "Tuesday evening") + (
    "The town of Brisk Hollow will hold a public meeting on the plan next week."
)
EARNINGS = (
    "Norrland Timber Corp said first-quarter net profit rose to {a} million crowns from {b} million a "
    "year earlier, on sales of {c} million crowns. The company kept its outlook for the full year and "
    "proposed a dividend of {d} crowns per share. Chief executive {ceo} said demand from builders held up."
)


def doc(key, text, date=None, doc_id=None, raw=""):
    return Document(doc_id=doc_id or key, source_uri=key, content_type="text", encoding="utf-8",
                    text=text, published_date=date, raw=raw)


def test_content_hash_ignores_case_spacing_and_punctuation():
    assert content_hash("Hello,  World!\n\nAgain.") == content_hash("hello world again")
    assert content_hash("hello world") != content_hash("hello there world")


def test_edited_copy_is_near_duplicate_and_unrelated_story_is_not():
    a, b = candidate_of(doc("a", WIRE)), candidate_of(doc("b", EDITED))
    assert set(band_keys(a.signature)) & set(band_keys(b.signature)), "copies must share an LSH band"
    assert is_near_duplicate(a, b) > 0.5
    other = candidate_of(doc("c", EARNINGS.format(a=1, b=2, c=3, d=4, ceo="Ann Berg")))
    assert is_near_duplicate(a, other) is None


def test_templated_lookalikes_with_different_numbers_stay_apart():
    one = candidate_of(doc("x", EARNINGS.format(a="412.5", b="388.1", c="2,950", d="3.10", ceo="Ann Berg")))
    two = candidate_of(doc("y", EARNINGS.format(a="97.2", b="120.4", c="1,310", d="0.85", ceo="Ann Berg")))
    assert is_near_duplicate(one, two) is None
    assert list(verified_pairs((1, 2), {1: one, 2: two})) == []


NOTICE = (
    "HARWICK, {day} - The Harwick port authority said {count} timber carriers were loading at the north "
    "quay and {waiting} more were waiting for a berth, according to harbour master {master}. "
    "The authority publishes its berth report every week, and shipping agents use it to plan arrivals. "
    "Loading hours at the north quay are unchanged, the authority said, and the south quay remains closed "
    "for dredging until the work is finished."
)


def test_weekly_notices_with_other_figures_and_names_in_the_same_places_stay_apart():
    # Too few numbers for the numbers guard: what tells the two weeks apart is what fills the template.
    one = candidate_of(doc("x", NOTICE.format(day="April 9", count="three", waiting="two", master="Ingrid Voss")))
    two = candidate_of(doc("y", NOTICE.format(day="April 16", count="seven", waiting="four", master="Tomas Reyes")))
    assert estimated_jaccard(one.signature, two.signature) >= 0.5  # similar enough on shingles alone
    assert details_conflict(one.details, two.details) > 0
    assert is_near_duplicate(one, two) is None
    # A copy desk's edit of the first week (a byline and a note added, the last sentence cut) still merges.
    text = NOTICE.format(day="April 9", count="three", waiting="two", master="Ingrid Voss")
    edited = "By Clara Nunes\n\n" + text.rsplit(" Loading hours", 1)[0] + "\n\n(Reporting by Clara Nunes)"
    copy = candidate_of(doc("z", edited))
    assert details_conflict(one.details, copy.details) == 0.0
    assert is_near_duplicate(one, copy) > 0.5


def test_bucket_pairs_are_all_pairs_or_a_star_for_huge_buckets_and_equal_texts():
    assert sorted(bucket_pairs([(3, 30), (1, 10), (2, 20), (1, 10)])) == [(1, 2), (1, 3), (2, 3)]
    huge = [(sid, sid) for sid in range(MAX_BUCKET_FOR_ALL_PAIRS + 5)]
    assert sorted(bucket_pairs(huge)) == [(0, other) for other in range(1, MAX_BUCKET_FOR_ALL_PAIRS + 5)]
    # Forty pages with one text and two others: a star for the forty, all pairs of the three texts.
    same = [(sid, 7) for sid in range(10, 50)]
    assert sorted(bucket_pairs([*same, (5, 8), (60, 9)])) == sorted(
        [(10, sid) for sid in range(11, 50)] + [(5, 10), (5, 60), (10, 60)])


def test_cluster_keeps_earliest_dated_copy_and_points_others_at_it():
    early = candidate_of(doc("early", EDITED, dt.date(2024, 3, 1)))
    late = candidate_of(doc("late", WIRE, dt.date(2024, 3, 2)))
    undated_copy = candidate_of(doc("copy", WIRE, None, doc_id="late"))
    verdicts = resolve_clusters([[late, undated_copy]], [(late, early)])
    assert verdicts["early"].duplicate_of is None and verdicts["early"].copies == 2
    assert verdicts["late"].duplicate_of == "early" and verdicts["late"].kind == "near"
    assert verdicts["copy"].duplicate_of == "early" and verdicts["copy"].kind == "near"


def test_exact_copies_point_at_the_kept_one_with_kind_exact():
    a = candidate_of(doc("a", WIRE, doc_id="id-a"))
    b = dataclasses.replace(a, key="b")
    verdicts = resolve_clusters([[a, b]], [])
    assert verdicts["a"].copies == 1
    assert verdicts["b"].duplicate_of == "id-a" and verdicts["b"].kind == "exact"
    assert verdicts["b"].similarity == 1.0


def test_undated_cluster_keeps_the_most_complete_text():
    short = candidate_of(doc("short", WIRE))
    longer = candidate_of(doc("longer", EDITED))
    verdicts = resolve_clusters([], [(short, longer)])
    assert verdicts["longer"].duplicate_of is None
    assert verdicts["short"].duplicate_of == "longer"


def test_a_copy_without_a_date_takes_the_earliest_reliable_date_of_its_cluster():
    dated = dataclasses.replace(doc("a", WIRE, dt.date(2017, 11, 20)), date_confidence=0.9, date_source="dateline")
    header_only = dataclasses.replace(doc("b", EDITED, dt.date(2017, 11, 18)), date_confidence=0.5)
    undated = doc("c", WIRE + " Updated with a quote.")
    candidates = [candidate_of(d) for d in (dated, header_only, undated)]
    verdicts = resolve_clusters([], [(candidates[0], candidates[1]), (candidates[0], candidates[2])])
    # The header date is earlier but not reliable: the dateline's date is shared.
    assert {v.cluster_date for v in verdicts.values()} == {dt.date(2017, 11, 20)}
    filled = with_cluster_date(undated, verdicts["c"])
    assert (filled.published_date, filled.date_source, filled.date_confidence) == (dt.date(2017, 11, 20), "cluster", 0.9)
    assert with_cluster_date(header_only, verdicts["b"]).published_date == dt.date(2017, 11, 18)  # keeps its own


def test_pages_differing_only_in_whitespace_share_a_page_key():
    page = "Dam finished early\n\n" + WIRE
    variants = [page.replace("\n", "\r\n"), page.replace("\n\n", "\n\n\n"), page.replace(". ", ".  \t"), page + "  \n"]
    assert {page_key(doc(f"v{i}", WIRE, raw=raw)) for i, raw in enumerate([page, *variants])} == {page_key(doc("p", "", raw=page))}
    assert page_key(doc("edited", WIRE, raw=page.replace("Tuesday", "Monday"))) != page_key(doc("p", "", raw=page))
    assert page_key(doc("gone", WIRE, doc_id="id-gone")) == "id-gone"  # no raw page: its bytes' id


def test_two_stories_of_one_source_under_the_same_chrome_are_no_copies():
    chrome = " ".join(EARNINGS.format(a=i, b=i, c=i, d=i, ceo="Ann Berg") for i in range(1, 8))
    story = WIRE
    one = candidate_of(doc("site/one.txt", story + "\n\n" + chrome))
    two = candidate_of(doc("site/two.txt", "The harbour board met on Monday. " * 3 + "\n\n" + chrome))
    assert one.source == two.source == "site"
    assert is_near_duplicate(one, two) is None
    # The same two texts from two sites: the chrome is then text both pages print, and counts.
    elsewhere = candidate_of(doc("other-site/two.txt", "The harbour board met on Monday. " * 3 + "\n\n" + chrome))
    assert is_near_duplicate(one, elsewhere) is not None
    # A copy in the same folder opens like its story: still a copy.
    copy = candidate_of(doc("site/copy.txt", story + " Updated. \n\n" + chrome))
    assert is_near_duplicate(one, copy) > 0.5


def test_two_pages_of_one_source_in_one_frame_with_equal_texts_are_no_copies():
    """Two pages of one site in the same frame that clean to the same text hold its chrome (the cleaner dropped two short
    stories and kept the comment thread): no copies. The same text from another site is a copy."""
    chrome = "Ann Berg says: I have read this blog for years and the advice on offers always helps. " * 6
    one, two = candidate_of(doc("site/one.txt", chrome)), candidate_of(doc("site/two.txt", chrome))
    assert one.content_hash == two.content_hash and one.page != two.page
    assert is_near_duplicate(one, two) is None
    elsewhere = candidate_of(doc("other-site/one.txt", chrome))
    assert is_near_duplicate(one, elsewhere) == 1.0
    # In a delivery's batch folder, the same text in two other frames (outlets' chrome) is a copy.
    framed = [candidate_of(doc(f"batch-1/{name}.txt", chrome, raw=f"{name} | Home\n\n{chrome}\n\n(c) {name}"))
              for name in ("Quay Times", "Harbour Post")]
    assert is_near_duplicate(*framed) == 1.0
    # In an LSH bucket the two are one text per source: each site's first page pairs with the others.
    ids = {c.key: i for i, c in enumerate((one, two, elsewhere))}
    members = [(ids[c.key], text_of_source(c)) for c in (one, two, elsewhere)]
    assert sorted(bucket_pairs(members)) == [(0, 1), (0, 2)]


def test_the_least_garbled_copy_is_kept_over_a_longer_or_earlier_one():
    clean = candidate_of(doc("clean", "The caf\u00e9 on the quay reopened. " + WIRE, dt.date(2024, 3, 2)))
    mojibake = candidate_of(doc("mojibake", "The caf\u00c3\u00a9 on the quay reopened. " + WIRE, dt.date(2024, 3, 1)))
    replaced = candidate_of(doc("replaced", "The caf\ufffd on the quay reopened. " + WIRE + " More.", dt.date(2024, 3, 1)))
    assert (garbled_marks("caf\u00e9 na\u00efve \u00a3") , garbled_marks("caf\u00c3\u00a9 it\u00e2\u20ac\u2122s")) == (0, 2)
    assert min([mojibake, replaced, clean], key=kept_order) is clean


def test_a_page_group_is_kept_as_its_first_member_and_its_copies_are_exact():
    cleaner = candidate_of(doc("site/a.txt", WIRE, doc_id="same"))
    chromed = candidate_of(doc("elsewhere/a.txt", WIRE + " Subscribe to our newsletter for more.", doc_id="same"))
    trimmed = candidate_of(doc("wire/b.txt", WIRE.rsplit(". ", 2)[0] + "."))
    verdicts = resolve_clusters([[cleaner, chromed]], [(chromed, trimmed)])
    assert verdicts["site/a.txt"].duplicate_of is None  # the most complete, but for the chromed copy of its page
    assert (verdicts["elsewhere/a.txt"].duplicate_of, verdicts["elsewhere/a.txt"].kind) == ("same", "exact")
    assert (verdicts["wire/b.txt"].duplicate_of, verdicts["wire/b.txt"].kind) == ("same", "near")


def test_a_page_printed_in_several_sources_folders_is_no_one_sources_page():
    """The wire's page and its byte-identical copy in a site's folder: the site's own edited copy of
    the story, with the same clean text, is a copy of the page (not a second page of that site)."""
    text = WIRE
    wire = candidate_of(doc("wire/a.txt", text + " Reuter", doc_id="same"))
    in_site = candidate_of(doc("site/a.txt", text, doc_id="same"))
    edited = candidate_of(doc("site/b.txt", text))
    group = page_group([wire, in_site])
    assert group[0].key == "site/a.txt" and group[0].source is None and group[1].source == "wire"
    assert is_near_duplicate(group[0], edited) == 1.0
    assert is_near_duplicate(in_site, edited) is None  # had the site's folder alone held the page
    assert page_group([in_site])[0].source == "site"
