"""Documents cross every stage boundary pickled, their long strings compressed."""
import pickle

from transforms.document import Document, Entity


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
