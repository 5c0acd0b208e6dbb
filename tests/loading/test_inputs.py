"""The input layer on its own: JSON record streaming for any format's page shape, and untrusted XML."""

from __future__ import annotations

import json

from converters.loading import Envelope, PageShape, RecordError, XmlRefusal, detect_form, iter_records, parse_untrusted

ITEMS = PageShape("items", frozenset({"items", "next"}))


def test_a_page_shape_is_the_formats_not_the_layers() -> None:
    text = json.dumps({"next": "t2", "items": [{"id": 1}, {"id": 2}], "extra": True})
    assert detect_form(text) == "single", "without a page shape an object is one record"
    assert detect_form(text, ITEMS) == "page"
    envelope = Envelope({})
    records = list(iter_records(text, "page", envelope, ITEMS))
    assert [r.value for r in records] == [{"id": 1}, {"id": 2}]
    assert envelope.fields == {"next": "t2", "items": 2, "extra": True}


def test_forms_other_than_pages_need_no_shape() -> None:
    assert [r.value for r in iter_records('[{"a": 1}, {"a": 2}]', "array")] == [{"a": 1}, {"a": 2}]
    ndjson = '{"a": 1}\n{oops\n{"a": 3}\n'
    assert detect_form(ndjson) == "ndjson"
    values = [r.value for r in iter_records(ndjson, "ndjson")]
    assert values[0] == {"a": 1} and isinstance(values[1], RecordError) and values[2] == {"a": 3}


def test_untrusted_xml_with_a_dtd_is_refused_before_parsing() -> None:
    evil = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<r>&e;</r>'
    assert parse_untrusted(evil) == XmlRefusal("dtd", entities=True)
    assert parse_untrusted(b"<!-- c --><!DOCTYPE r><r/>") == XmlRefusal("dtd")


def test_untrusted_xml_malformed_and_well_formed() -> None:
    refusal = parse_untrusted(b"<r>\n<a></r>")
    assert isinstance(refusal, XmlRefusal) and refusal.kind == "malformed" and refusal.line == 2
    root = parse_untrusted(b"<r><a>x</a></r>")
    assert not isinstance(root, XmlRefusal) and root.findtext("a") == "x"
