"""Tests of the entities stage on short fictional news text (no corpus needed)."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not a pytest class
from apache_beam.testing.util import assert_that, equal_to
from cli_runs import run_cli

from schemas.records import Document
from schemas.tables import ENTITIES
from storage.visible import open_table
from transforms.casing import recased, shouted_lines
from transforms.entities import (
    TITLE_OFFSET,
    AliasTable,
    ExtractEntities,
    _document_links,
    _Mention,
    _ner_upstreams,
    _resolve,
    annotate,
    default_alias_table,
    fold,
    is_english,
    load_model,
    name_key,
    place_key,
    team_spans,
)
from transforms.routing import Rejected

MILITANTS = (
    "Fighters of the Islamic State group attacked the outskirts of Deir ez-Zor on Monday, officials said.\n\n"
    "IS has held villages in the province for years. Residents said Daesh fighters entered the town at "
    "dawn, and an ISIS commander was killed near Deir Ezzor airport, while others fled towards Deir "
    "al-Zour.\n\n"
    "Army units later advanced on Albu Kamal and on Raqa, a spokesman said."
)
MINISTER = (
    "Prime Minister Helena Varga met grain farmers in Oporto on Tuesday.\n\n"
    "Varga promised new subsidies before the winter, and said the plan would cost little."
)
COOPERATIVE = (
    "Members of the Northern Grain Cooperative voted on Friday to sell their silos.\n\n"
    "The NGC has 400 members in three districts, a spokeswoman said."
)
OBSERVATORY = (
    "Flooding closed two harbours, according to the Coastal Observatory for Marine Safety.\n\n"
    "The storm will weaken by Sunday, the Observatory said in a statement."
)
GERMAN = "Der Bürgermeister von Hamburg, Karl Schneider, eröffnete am Montag die neue Brücke."


def make_doc(
    text: str, title: str | None = None, language: str | None = "en", doc_id: str = "d1"
) -> Document:
    return Document(
        doc_id=doc_id,
        source_uri=f"file:///news/{doc_id}.txt",
        content_type="text",
        encoding="utf-8",
        title=title,
        text=text,
        language=language,
    )


@pytest.fixture(scope="module")
def nlp():
    return load_model()


def annotate_one(nlp, text: str, **kwargs) -> Document:
    return annotate(nlp, [make_doc(text, **kwargs)])[0]


def canonicals_of(doc: Document, surface: str) -> set[str]:
    return {e.canonical for e in doc.entities if e.text == surface}


def assert_offsets_valid(doc: Document) -> None:
    for e in doc.entities:
        if e.start >= 0:
            assert doc.text[e.start : e.end] == e.text, e
        else:
            assert e.start == e.end == TITLE_OFFSET, e


# ---------------------------------------------------------------------------------------------- model


def test_model_keeps_only_what_ner_needs(nlp):
    assert nlp.pipe_names == ["newsflow_boundaries", "ner"]


def test_listening_ner_keeps_its_upstream():
    listening = {
        "components": {
            "ner": {
                "model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "upstream": "tok2vec"}}
            }
        }
    }
    embedded = {"components": {"ner": {"model": {"tok2vec": {"@architectures": "spacy.Tok2Vec.v2"}}}}}
    assert _ner_upstreams(listening) == ["tok2vec"]
    assert _ner_upstreams(embedded) == []


def test_no_entity_runs_across_a_line_break(nlp):
    doc = annotate_one(nlp, "Reporting by Jim Adams\nWASHINGTON officials met on Monday.")
    assert all("\n" not in e.text for e in doc.entities)


# ---------------------------------------------------------------------------------------- alias table


def test_fold_ignores_case_accents_dots_and_hyphens():
    assert fold("Deir Al-Zor") == fold("deir al zor")
    assert fold("S.D.F.") == fold("SDF")
    assert fold("Erdoğan") == "erdogan"
    assert name_key("Mr. Assad") == "assad"
    for name in ("Mr. Assad", "Dayr az-Zawr", "Ālbū Kamāl", "İstanbul"):  # the gazetteer's uncached key
        assert place_key(name) == name_key(name)


def test_alias_table_maps_every_islamic_state_name_to_one():
    table = default_alias_table()
    names = ["IS", "ISIS", "ISIL", "Daesh", "Islamic State", "Islamic State group"]
    assert {table.lookup(name_key(n)).canonical for n in names} == {"Islamic State"}


def test_alias_table_maps_place_transliterations_to_one():
    table = default_alias_table()
    groups = {
        "Deir ez-Zor": ["Deir ez-Zor", "Deir Al-Zor", "Deir al-Zour", "Deir Ezzor"],
        "Abu Kamal": ["Abu Kamal", "Albu Kamal", "Bukamal"],
        "Al-Qaim": ["Al-Qaim", "Qaim"],
        "Raqqa": ["Raqqa", "Raqa"],
    }
    for canonical, variants in groups.items():
        assert {table.lookup(name_key(v)).canonical for v in variants} == {canonical}


def test_unlisted_transliteration_resolves_by_skeleton_or_fuzzily():
    table = default_alias_table()
    assert table.lookup(name_key("Al-Raqqah")).canonical == "Raqqa"  # same skeleton "raqah"
    assert table.lookup(name_key("Deir Azzor")).canonical == "Deir ez-Zor"  # close skeleton (fuzzy)
    assert table.lookup(name_key("Abou Kamal")).canonical == "Abu Kamal"
    assert table.lookup(name_key("Osaka")) is None  # close to "Hasaka", but another first letter


def test_fuzzy_matching_can_be_switched_off():
    strict = AliasTable.from_json(fuzzy=False)
    assert strict.lookup(name_key("Al-Raqqah")).canonical == "Raqqa"
    assert strict.lookup(name_key("Deir Azzor")) is None


def test_acronym_aliases_are_case_sensitive_and_not_shouted():
    table = AliasTable([{"canonical": "Islamic State", "label": "ORG", "aliases": ["IS"]}])
    text = "Is it over? IS fighters left.\nTHIS IS THE END"
    assert [text[s:e] for s, e, _ in table.find(text)] == ["IS"]


def test_alias_in_text_keeps_its_capitals():
    table = AliasTable([{"canonical": "Islamic State", "label": "ORG", "aliases": ["Islamic State group"]}])
    assert list(table.find("a radical Islamic state was proclaimed")) == []
    assert len(list(table.find("the ISLAMIC STATE GROUP claimed it"))) == 1


# ------------------------------------------------------------------------------------------- annotate


def test_all_islamic_state_aliases_resolve_to_one_canonical(nlp):
    doc = annotate_one(nlp, MILITANTS)
    for surface in ("IS", "Daesh", "ISIS"):
        assert canonicals_of(doc, surface) == {"Islamic State"}, surface
    labels = {e.label for e in doc.entities if e.canonical == "Islamic State"}
    assert labels == {"ORG"}


def test_place_variants_resolve_to_one_canonical(nlp):
    doc = annotate_one(nlp, MILITANTS)
    deir = {e.text for e in doc.entities if e.canonical == "Deir ez-Zor"}
    assert {"Deir ez-Zor", "Deir Ezzor", "Deir al-Zour"} <= deir
    assert canonicals_of(doc, "Albu Kamal") == {"Abu Kamal"}
    assert canonicals_of(doc, "Raqa") == {"Raqqa"}
    assert {e.label for e in doc.entities if e.canonical in ("Deir ez-Zor", "Abu Kamal", "Raqqa")} == {"GPE"}


def test_surname_links_to_the_full_name_in_the_same_article(nlp):
    doc = annotate_one(nlp, MINISTER)
    assert canonicals_of(doc, "Helena Varga") == {"Helena Varga"}
    assert canonicals_of(doc, "Varga") == {"Helena Varga"}
    assert {e.label for e in doc.entities if e.canonical == "Helena Varga"} == {"PERSON"}


def test_acronym_links_to_the_organisation_in_the_same_article(nlp):
    doc = annotate_one(nlp, COOPERATIVE)
    assert canonicals_of(doc, "NGC") == {"Northern Grain Cooperative"}


def test_the_observatory_links_to_its_full_name(nlp):
    doc = annotate_one(nlp, OBSERVATORY)
    assert canonicals_of(doc, "Observatory") == {"Coastal Observatory for Marine Safety"}


def test_a_surname_shared_by_two_people_is_not_linked():
    text = "Anna Kowalski met Piotr Kowalski. Kowalski said"
    mentions = [
        _Mention(0, 13, "Anna Kowalski", "PERSON", "anna kowalski", "model"),
        _Mention(18, 33, "Piotr Kowalski", "PERSON", "piotr kowalski", "model"),
        _Mention(35, 43, "Kowalski", "PERSON", "kowalski", "model"),
    ]
    assert "kowalski" not in _document_links(mentions, text)


def mentions_of(text: str, labelled: list[tuple[str, str]]) -> list[_Mention]:
    """Model mentions of the given names, in order, at their places in `text`."""
    mentions, start = [], 0
    for name, label in labelled:
        start = text.index(name, start)
        mentions.append(_Mention(start, start + len(name), name, label, name_key(name), "model"))
        start += len(name)
    return mentions


def test_a_country_the_model_also_calls_a_person_is_a_place():
    text = "Nepal won. Nepal lost. Aid to Nepal rose. Houston scored. Houston left. Flights to Houston."
    labelled = [("Nepal", "PERSON"), ("Nepal", "PERSON"), ("Nepal", "GPE"),
                ("Houston", "PERSON"), ("Houston", "PERSON"), ("Houston", "GPE")]
    resolved = {(m.text, canonical, label) for m, canonical, label in _resolve(mentions_of(text, labelled), text,
                                                                             default_alias_table())}
    # one place label for a country; a city named like a person keeps the majority label
    assert resolved == {("Nepal", "Nepal", "GPE"), ("Houston", "Houston", "PERSON")}


def test_no_entity_runs_across_a_spaced_dash(nlp):
    doc = annotate_one(nlp, "Squads: Belgium - Marc Vandevelde, Luc Peeters.\nFaroe Islands - Jan Olsen, Jens Martin Hansen.")
    assert all(" - " not in e.text for e in doc.entities)
    assert ("Faroe Islands", "GPE") in {(e.text, e.label) for e in doc.entities}  # not "Faroe Islands - Jan Olsen"
    assert_offsets_valid(doc)


def test_entities_have_valid_offsets_and_a_title_only_entity_has_none(nlp):
    doc = annotate_one(nlp, MINISTER, title="Lisbon welcomes farmers")
    assert_offsets_valid(doc)
    assert any(e.start >= 0 for e in doc.entities)
    title_only = [e for e in doc.entities if e.text == "Lisbon"]
    assert title_only and all(e.start == e.end == TITLE_OFFSET for e in title_only)


def test_an_entity_named_alike_in_title_and_body_is_stored_once_with_body_offsets(nlp):
    doc = annotate_one(nlp, MINISTER, title="Varga meets farmers in Oporto")
    varga = [e for e in doc.entities if e.canonical == "Helena Varga"]
    assert varga and all(e.start >= 0 for e in varga)
    assert_offsets_valid(doc)


def test_offsets_valid_on_every_fixture(nlp):
    docs = annotate(
        nlp,
        [
            make_doc(t, title="Storm and grain", doc_id=str(i))
            for i, t in enumerate([MILITANTS, MINISTER, COOPERATIVE, OBSERVATORY])
        ],
    )
    for doc in docs:
        assert doc.entities
        assert_offsets_valid(doc)


def test_non_english_document_is_skipped(nlp):
    docs = annotate(nlp, [make_doc(GERMAN, language="de"), make_doc(MINISTER, language="en-GB")])
    assert docs[0].entities == []
    assert docs[1].entities
    assert not is_english(docs[0]) and is_english(docs[1])


def test_unknown_language_is_treated_as_english(nlp):
    assert annotate_one(nlp, MINISTER, language=None).entities


def test_empty_text_is_fine(nlp):
    assert annotate_one(nlp, "").entities == []
    assert annotate_one(nlp, "", title="").entities == []


def test_document_too_long_for_the_model_is_rejected(nlp):
    limit = nlp.max_length
    nlp.max_length = 50
    try:
        with pytest.raises(Rejected, match="too long"):
            annotate(nlp, [make_doc(MINISTER)])
    finally:
        nlp.max_length = limit


def test_numbers_and_dates_are_not_named_entities(nlp):
    doc = annotate_one(nlp, "On 3 March 2021 the council spent 40 million euros on 12 bridges.")
    assert all(e.label not in ("DATE", "CARDINAL", "MONEY") for e in doc.entities)


def test_annotate_returns_new_documents_in_order(nlp):
    inputs = [make_doc(MINISTER, doc_id="a"), make_doc(GERMAN, language="de", doc_id="b")]
    outputs = annotate(nlp, inputs)
    assert [d.doc_id for d in outputs] == ["a", "b"]
    assert inputs[0].entities == []  # the input is not mutated


# ----------------------------------------------------------------------------------------------- Beam


def test_beam_transform_annotates_and_counts():
    docs = [
        make_doc(MILITANTS, doc_id="a"),
        make_doc(MINISTER, doc_id="b"),
        make_doc(GERMAN, language="de", doc_id="c"),
    ]
    pipeline = BeamTestPipeline(runner="FnApiRunner")
    results = pipeline | beam.Create(docs) | ExtractEntities(batch_size=2)
    summary = results.documents | beam.Map(lambda d: (d.doc_id, bool(d.entities)))
    assert_that(summary, equal_to([("a", True), ("b", True), ("c", False)]), label="documents")
    assert_that(results.rejects, equal_to([]), label="rejects")
    result = pipeline.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}
    assert counters["entities.documents"] == 3
    assert counters["entities.skipped_language"] == 1
    assert counters["entities.mentions"] > 5


def test_beam_transform_rejects_only_the_bad_document():
    broken = make_doc(MINISTER, doc_id="broken")
    broken.text = None  # a bug upstream: fails the whole batch, so it is retried one by one
    docs = [make_doc(MILITANTS, doc_id="a"), broken, make_doc(COOPERATIVE, doc_id="b")]
    with BeamTestPipeline(runner="FnApiRunner") as pipeline:
        results = pipeline | beam.Create(docs) | ExtractEntities(batch_size=8)
        ids = results.documents | "Ids" >> beam.Map(lambda d: d.doc_id)
        assert_that(ids, equal_to(["a", "b"]), label="documents")
        rejected = results.rejects | "Rejected" >> beam.Map(lambda r: (r.doc_id, r.stage))
        assert_that(rejected, equal_to([("broken", "entities")]), label="rejects")


RESULTS = (
    "Port Alder beat Kelby Town in the coastal league on Saturday, and Dunmere lost at home.\n\n"
    "Port Alder 2 Kelby Town 1\nDunmere 0 Valdoria City 3\nNorthgate 1 Southend Rovers 1"
)


def test_teams_in_a_results_table_are_organisations_even_when_named_after_places(nlp):
    [doc] = annotate(nlp, [make_doc(RESULTS, title="Coastal league results")])
    labels = {(e.text, e.label) for e in doc.entities}
    for team in ("Port Alder", "Kelby Town", "Dunmere", "Valdoria City", "Northgate", "Southend Rovers"):
        assert (team, "ORG") in labels, team
    assert not {label for text, label in labels if text == "Port Alder"} - {"ORG"}  # one label per document
    for e in doc.entities:
        assert e.start == TITLE_OFFSET or doc.text[e.start:e.end] == e.text


def test_a_single_score_line_is_not_a_results_table():
    assert team_spans("Port Alder 2 Kelby Town 1") == []
    assert team_spans("Revenue rose 12 pct to 3.4 billion crowns.\nThe Port Alder 2 plant closed.") == []


# ------------------------------------------------------------------------------------ lines in capitals

HARBOUR = (
    "PORT ALDER 2024-03-02\n"
    "Dock workers at Halvorsen Terminals in Port Alder walked out on Saturday, the union said.\n\n"
    "The strike stopped grain exports, a spokesman for the port said."
)


def test_recased_rewrites_the_words_of_shouted_lines_only_keeping_every_offset():
    text = "GRAIN FARMERS MEET VARGA IN OPORTO\nPrime Minister Helena Varga met grain farmers on Tuesday.\nThe NGC agreed."
    out = recased(text)
    assert len(out) == len(text)
    headline, *rest = out.split("\n")
    # the document's own spelling ("grain", "Varga"), a stopword in lower case, else a capital first letter
    assert headline == "grain farmers Meet Varga in Oporto"
    assert rest == text.split("\n")[1:]  # "NGC" in a sentence is an acronym, not shouting


def test_text_without_shouted_lines_is_left_as_it_is():
    assert shouted_lines(MINISTER) == []
    assert recased(MINISTER) == MINISTER
    assert shouted_lines("CRICKET - SCORES .\nLONDON 1996-08-30\nEssex won .") == [(0, 18), (19, 36)]


def test_words_in_capitals_opening_a_line_are_recased_unless_short():
    assert recased("WASHINGTON (Reuters) - The NGC said.") == "Washington (Reuters) - The NGC said."
    assert recased("US officials said so.\nUN staff left.") == "US officials said so.\nUN staff left."


def test_a_dateline_run_into_its_paragraph_is_found_as_written(nlp):
    doc = annotate_one(nlp, HARBOUR.replace("2024-03-02\n", "2024-03-02 "))
    dateline = [e for e in doc.entities if e.start == 0]
    assert [(e.text, e.canonical) for e in dateline] == [("PORT ALDER", "Port Alder")]


def test_a_name_in_a_dateline_of_capitals_is_found_as_written(nlp):
    doc = annotate_one(nlp, HARBOUR)
    dateline = [e for e in doc.entities if e.start == 0]
    assert [(e.text, e.canonical) for e in dateline] == [("PORT ALDER", "Port Alder")]
    assert_offsets_valid(doc)


def test_a_title_spelling_the_body_does_not_use_is_kept_beside_the_body_mentions(nlp):
    doc = annotate_one(nlp, MINISTER, title="FARMERS WIN SUBSIDIES FROM VARGA")
    varga = {(e.text, e.start >= 0) for e in doc.entities if e.canonical == "Helena Varga"}
    assert varga == {("VARGA", False), ("Helena Varga", True), ("Varga", True)}
    assert_offsets_valid(doc)


WIRE_STORY = """FARMERS WIN SUBSIDIES FROM VARGA

    OPORTO, March 5 - Prime Minister Helena Varga met grain
farmers in Oporto on Tuesday and promised them new subsidies
before the winter.
    Varga said the plan would cost little, and that the money
would come from the regional development fund.
 REUTER
"""


def test_the_entities_table_lists_the_headline_spelling_of_a_name(tmp_path):
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "farmers.txt").write_text(WIRE_STORY)
    run_cli(tmp_path / "dump", "--output", tmp_path / "out", "--quiet")
    rows = open_table(str(tmp_path / "out"), ENTITIES).to_table().to_pylist()
    varga = [row for row in rows if row["canonical"] == "Helena Varga"]
    assert varga and varga[0]["label"] == "PERSON"
    assert set(varga[0]["surfaces"]) == {"VARGA", "Helena Varga", "Varga"}
