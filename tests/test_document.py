"""Documents cross every stage boundary pickled, their long strings compressed."""
import dataclasses
import pickle
import random
import string
import zlib

import pytest

from schemas.records import Document, Entity, FieldReleased
from transforms.dedupe import page_candidate
from transforms.samples import sample_entry


def _page(paragraphs: int) -> str:
    return "\n\n".join(f"Paragraph {n}: the harbour authority of Kétmarsh said on day {n} that…" for n in range(paragraphs))


def test_a_document_survives_pickling_unchanged():
    doc = Document(
        doc_id="d1", source_uri="file:///dump/a.html", content_type="html", encoding="utf-8",
        raw="<p>" + _page(60) + "\udc80</p>",  # a lone surrogate, as surrogateescape decoding leaves
        text=_page(40), title="Harbour", entities=[Entity("Kétmarsh", "GPE", "Kétmarsh", 30, 38)],
        line_keys=(1, 2, 3),
    )
    assert pickle.loads(pickle.dumps(doc)) == doc


def test_long_texts_travel_compressed_and_short_ones_as_they_are():
    long_doc = Document(doc_id="d2", source_uri="u", content_type="text", encoding="utf-8",
                        raw=_page(200), text=_page(150))
    packed = pickle.dumps(long_doc)
    assert len(packed) < (len(long_doc.raw) + len(long_doc.text)) / 3
    short_doc = Document(doc_id="d3", source_uri="u", content_type="text", encoding="utf-8", raw="Hi.", text="Hi.")
    assert pickle.loads(pickle.dumps(short_doc)) == short_doc
    assert b"Hi." in pickle.dumps(short_doc)  # below the threshold nothing is compressed


def test_the_text_costs_little_beside_the_page_it_was_cleaned_from():
    # The clean text is the page's article lines: packed with the page, zlib finds them there.
    draw = random.Random(7)
    vocabulary = ["".join(draw.choices(string.ascii_lowercase, k=draw.randint(3, 9))) for _ in range(2000)]
    words = draw.choices(vocabulary, k=1200)
    sentences = [" ".join(words[i:i + 15]) + "." for i in range(0, len(words), 15)]
    page = "\n".join(f"Menu · Home · Sport {n}\n{sentence}" for n, sentence in enumerate(sentences))
    text = "\n\n".join(sentences)
    page_only = Document(doc_id="d4", source_uri="u", content_type="text", encoding="utf-8", raw=page)
    with_text = dataclasses.replace(page_only, text=text)
    assert pickle.loads(pickle.dumps(with_text)) == with_text
    assert len(pickle.dumps(with_text)) - len(pickle.dumps(page_only)) < len(zlib.compress(text.encode(), 1)) / 2


def test_a_released_working_field_is_gone_and_a_stage_that_reads_it_later_fails_loudly():
    doc = Document(doc_id="d4", source_uri="u", content_type="text", encoding="utf-8",
                   raw=_page(30), text=_page(20), line_keys=(1, 2))
    released = doc.release("raw", "line_keys")
    assert (released.raw, released.line_keys, doc.raw) == (None, None, _page(30))  # a copy: doc is unchanged
    assert pickle.loads(pickle.dumps(released)) == released
    assert sample_entry(doc)["lines"] and page_candidate(doc).doc_id == "d4"
    for stage in (sample_entry, page_candidate):  # placed after the release: an error, not an empty result
        with pytest.raises(FieldReleased, match="must run before"):
            stage(released)
    empty = Document(doc_id="d5", source_uri="u", content_type="text", encoding="utf-8", raw="")
    empty.require("dedupe", "raw")  # an empty page is a page, not a released one
