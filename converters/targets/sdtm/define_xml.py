"""Define-XML 2.1 for a package of Trial Design tables: datasets, variables, value-level metadata, codelists.

The document describes exactly what was written: one ItemGroupDef per dataset (class TRIAL DESIGN), one ItemDef
per column present, value-level metadata for TSVAL per TSPARMCD (data type, length and codelist of each
parameter's values) and for IETEST where a criterion was shortened (its full text) or its text lost a comparison
sign (a def:CommentDef saying so and naming the damaged phrases, since TI has no variable for it), and a CodeList
per controlled terminology in use listing only the terms used; sponsor extensions are marked
def:ExtendedValue="Yes". Null flavours and country codes refer to external dictionaries (ISO 21090,
ISO 3166). Output is deterministic: OIDs derive from dataset, variable and parameter names; the creation
date-time is the package's.

The same code writes the document two ways: `build_define` appends every element to one tree (one study's
package, small), and `stream_define` writes it to a file a batch of elements at a time (the concatenated
layout, where the criteria described one by one grow with the number of studies). Streaming renders each batch
with lxml inside a skeleton of the same depth and namespaces and keeps the bytes between the skeleton's tags, so
both give the same bytes (tests/test_define_stream.py compares them).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, Protocol

from lxml import etree

from converters.targets.sdtm.codecs import item_group_oid, item_oid
from converters.targets.sdtm.metadata import Column, Dataset
from converters.targets.sdtm.spec import Codelist, SdtmSpec
from converters.targets.sdtm.tables import StudyTables

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM, "def": DEF, "xlink": XLINK}
STD_IG = "STD.SDTMIG"
STD_CT = "STD.CT"
_OID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DEFINE_TYPES = {"text": "text", "integer": "integer", "float": "float"}


@dataclass(frozen=True)
class DefineHeader:
    file_oid: str
    creation_datetime: str
    study_oid: str
    study_name: str
    study_description: str
    protocol_name: str
    metadata_version_oid: str
    source_version: str
    archive_format: str | None  # xpt | json | csv: where def:leaf points; None when no data file was written
    study_ids: tuple[str, ...] = ()  # named after `study_description`, comma-separated (several studies)


@dataclass
class _Codelists:
    """Terms used per codelist (CDISC) and the external dictionaries referenced."""

    used: dict[str, dict[str, None]] = field(default_factory=dict)
    external: dict[str, None] = field(default_factory=dict)

    def add(self, key: str, values: Iterable[object]) -> None:
        terms = self.used.setdefault(key, {})
        for value in values:
            if value is not None:
                terms[str(value)] = None


def safe_oid(text: str) -> str:
    return _OID_UNSAFE.sub("_", text)


def _d(tag: str) -> str:
    return f"{{{DEF}}}{tag}"


def _o(tag: str) -> str:
    return f"{{{ODM}}}{tag}"


def _translated(parent: etree._Element, tag: str, text: str) -> None:
    holder = etree.SubElement(parent, tag)
    etree.SubElement(holder, _o("TranslatedText"), {XML_LANG: "en"}).text = text


def _origin(parent: etree._Element, origin: str, spec: SdtmSpec) -> None:
    if origin == "registry":
        element = etree.SubElement(parent, _d("Origin"), {"Type": "Other"})
        _translated(element, _o("Description"), spec.settings.registry_origin)
    else:
        etree.SubElement(parent, _d("Origin"), {"Type": "Assigned", "Source": "Sponsor"})


def _column_values(dataset: Dataset, name: str) -> list[object]:
    index = [c.name for c in dataset.columns].index(name)
    return [row[index] for row in dataset.rows]


# --- what the document needs to know about the tables (compact: no rows) ----------------------------


@dataclass
class ValueStats:
    """The TSVAL values of one TSPARMCD, as far as value-level metadata needs them."""

    max_chars: int = 0
    max_bytes: int = 0
    full_dates: bool = True
    terms: set[str] = field(default_factory=set)  # kept for coded parameters only (a codelist lists them)

    def add(self, text: str, coded: bool) -> None:
        self.max_chars = max(self.max_chars, len(text))
        self.max_bytes = max(self.max_bytes, len(text.encode("utf-8")))
        self.full_dates = self.full_dates and bool(_FULL_DATE.match(text))
        if coded:
            self.terms.add(text)

    def merge(self, other: ValueStats) -> None:
        self.max_chars = max(self.max_chars, other.max_chars)
        self.max_bytes = max(self.max_bytes, other.max_bytes)
        self.full_dates = self.full_dates and other.full_dates
        self.terms |= other.terms


@dataclass(frozen=True)
class IetestFact:
    """A criterion that value-level metadata describes: shortened (its full text) or damaged (its phrases)."""

    study_id: str
    code: str
    length: int  # IETEST as written, in UTF-8 bytes
    full: str
    phrases: tuple[str, ...] | None


@dataclass
class DefineFacts:
    """Everything `build_define` reads about a package: the datasets' columns (rows left out), whether each has
    data, the values of codelist variables and of TSVAL per parameter, and the criteria to describe. One study's
    facts come from its tables (`define_facts`); the concatenated layout merges them study by study, so that
    define.xml is written without holding the tables."""

    datasets: list[Dataset]
    has_data: dict[str, bool]
    codelist_values: dict[tuple[str, str], set[str]]  # (dataset, variable with a codelist) -> values
    ts_kinds: dict[str, tuple[str, str | None]]
    ts_values: dict[str, ValueStats]
    ietest: Collection[IetestFact]  # sorted by (study, code); iterated once per section (a spool, at scale)
    several: bool


def define_facts(datasets: Sequence[Dataset], package: StudyTables) -> DefineFacts:
    """The facts of one package (one study's, or a merged one's) from its tables."""
    codelist_values = {(d.name, c.name): {str(v) for v in _column_values(d, c.name) if v is not None}
                       for d in datasets for c in d.columns if c.codelist}
    by_name = {d.name: d for d in datasets}
    ts_values: dict[str, ValueStats] = {}
    for ts in by_name["TS"].records():
        value, code = ts["TSVAL"], ts["TSPARMCD"]
        if value is not None and isinstance(code, str):
            kind = package.ts_value_kinds.get(code)
            ts_values.setdefault(code, ValueStats()).add(str(value), kind is not None and kind[0] == "coded")
    records = {(str(r["STUDYID"]), str(r["IETESTCD"])): r for r in by_name["TI"].records()}
    ietest = []
    for study_id, code in sorted(package.ti_full_texts.keys() | package.ti_damaged.keys()):
        record = records.get((study_id, code))
        if record is not None:
            ietest.append(IetestFact(study_id, code, len(str(record["IETEST"]).encode("utf-8")),
                                     package.ti_full_texts.get((study_id, code), str(record["IETEST"])),
                                     package.ti_damaged.get((study_id, code))))
    return DefineFacts(
        datasets=[Dataset(d.name, d.label, d.structure, d.klass, d.columns, ()) for d in datasets],
        has_data={d.name: bool(d.rows) for d in datasets}, codelist_values=codelist_values,
        ts_kinds=dict(package.ts_value_kinds), ts_values=ts_values, ietest=ietest,
        several=len(package.study_ids) > 1,
    )


# --- value-level metadata ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ValueItem:
    oid: str
    name: str
    data_type: str
    length: int | None
    description: str
    codelist: str | None  # OID
    where: tuple[tuple[str, str], ...]  # (item OID, value) pairs, all EQ
    comment: str | None = None  # def:CommentDef text (a criterion whose text is damaged)


def _tsval_items(facts: DefineFacts, spec: SdtmSpec, codelists: _Codelists) -> list[_ValueItem]:
    names = {p.code: p.name for p in spec.parameters}
    items = []
    for code, (kind, codelist) in facts.ts_kinds.items():
        stats = facts.ts_values.get(code)
        if stats is None:
            continue
        cl_oid = None
        if kind == "coded" and codelist:
            codelists.add(codelist, stats.terms)
            cl_oid = f"CL.{codelist}"
        elif kind == "country":
            codelists.external["ISO3166"] = None
            cl_oid = "CL.ISO3166"
        if kind == "integer":
            data_type, length = "integer", stats.max_chars
        elif kind == "date":
            data_type = "date" if stats.full_dates else "partialDate"
            length = None
        elif kind == "duration":
            data_type, length = "durationDatetime", None
        else:
            data_type, length = "text", stats.max_bytes
        items.append(_ValueItem(
            oid=f"IT.TS.TSVAL.{code}", name="TSVAL", data_type=data_type, length=length,
            description=names.get(code, code), codelist=cl_oid, where=((item_oid("TS", "TSPARMCD"), code),),
        ))
    return items


def _ietest_items(facts: DefineFacts, spec: SdtmSpec) -> Iterator[_ValueItem]:
    """IETEST per criterion that was shortened (described by its full text) or whose text lost a comparison sign
    (commented as damaged, naming the phrases; the sign is not guessed). A generator: one item at a time."""
    for fact in facts.ietest:
        comment = spec.settings.damaged_comparator_comment.format(
            phrases=", ".join(f"'{p}'" for p in fact.phrases)) if fact.phrases else None
        where: tuple[tuple[str, str], ...] = ((item_oid("TI", "IETESTCD"), fact.code),)
        suffix = fact.code
        if facts.several:
            where = ((item_oid("TI", "STUDYID"), fact.study_id), *where)
            suffix = f"{safe_oid(fact.study_id)}.{fact.code}"
        yield _ValueItem(
            oid=f"IT.TI.IETEST.{suffix}", name="IETEST", data_type="text", length=fact.length,
            description=fact.full, codelist=None, where=where, comment=comment,
        )


def _where_oid(item: _ValueItem) -> str:
    return "WC." + item.oid.removeprefix("IT.")


def _comment_oid(item: _ValueItem) -> str | None:
    return "COM." + item.oid.removeprefix("IT.") if item.comment else None


def _comment_defs(target: _Target, items: Iterable[_ValueItem]) -> None:
    for item in items:
        oid = _comment_oid(item)
        if oid and item.comment:
            comment = etree.SubElement(target.parent, _d("CommentDef"), {"OID": oid})
            _translated(comment, _o("Description"), item.comment)
            target.flush()


# --- where the elements go: one tree, or a file a batch at a time ----------------------------------


class _Target(Protocol):
    """A parent to append elements to (`parent`), told after each appended element (`flush`)."""

    parent: etree._Element

    def flush(self) -> None: ...

    def value_list(self, oid: str) -> AbstractContextManager[_Target]: ...


class _Tree:
    """`build_define`'s target: everything stays in the tree."""

    def __init__(self, parent: etree._Element) -> None:
        self.parent = parent

    def flush(self) -> None:
        pass

    @contextmanager
    def value_list(self, oid: str) -> Iterator[_Target]:
        yield _Tree(etree.SubElement(self.parent, _d("ValueListDef"), {"OID": oid}))


_SPLIT = "TRIALBRIDGE-SPLIT"  # the tag of the skeleton's innermost element and of a split point
_BATCH = 256  # elements rendered at once when streaming


def _skeleton(depth: int) -> etree._Element:
    """An element at `depth` (the root: 0) below a root with define.xml's namespaces: its children render with
    the indentation and prefixes they have at that depth of the document."""
    node = etree.Element(_o("ODM"), nsmap=NSMAP)
    for _ in range(depth - 1):
        node = etree.SubElement(node, _o("S"))
    return etree.SubElement(node, _o(_SPLIT))


def _children_bytes(parent: etree._Element) -> bytes:
    """The rendering of a skeleton element's children, as lxml writes them inside the document."""
    rendered: bytes = etree.tostring(parent.getroottree(), encoding="UTF-8", pretty_print=True)
    start = rendered.index(f"<{_SPLIT}>\n".encode()) + len(_SPLIT) + 3
    end = rendered.rindex(f"</{_SPLIT}>".encode())
    return rendered[start:rendered.rindex(b"\n", 0, end) + 1]


def _split_at(rendered: bytes) -> tuple[bytes, bytes]:
    """The bytes before and after the line of the split-point element."""
    at = rendered.index(f"<{_SPLIT}/>".encode())
    return rendered[:rendered.rindex(b"\n", 0, at) + 1], rendered[rendered.index(b"\n", at) + 1:]


class _Stream:
    """`stream_define`'s target: elements appended to a skeleton at their depth, written and dropped a batch at a
    time."""

    def __init__(self, handle: IO[bytes], depth: int) -> None:
        self.handle, self.depth = handle, depth
        self.parent = _skeleton(depth)

    def flush(self, force: bool = False) -> None:
        if len(self.parent) >= _BATCH or (force and len(self.parent)):
            self.handle.write(_children_bytes(self.parent))
            for child in list(self.parent):
                self.parent.remove(child)

    @contextmanager
    def value_list(self, oid: str) -> Iterator[_Target]:
        self.flush(force=True)
        holder = etree.SubElement(self.parent, _d("ValueListDef"), {"OID": oid})
        etree.SubElement(holder, _o(_SPLIT))
        head, tail = _split_at(_children_bytes(self.parent))
        self.parent.remove(holder)
        self.handle.write(head)
        inner = _Stream(self.handle, self.depth + 1)
        yield inner
        inner.flush(force=True)
        self.handle.write(tail)


def _text_bytes(text: str) -> bytes:
    """`text` as lxml escapes it in an element's content."""
    if not text:
        return b""
    holder = etree.Element("t")
    holder.text = text
    rendered: bytes = etree.tostring(holder, encoding="UTF-8")
    return rendered[3:-4]


# --- the document ------------------------------------------------------------------------------------


def _standards(mdv: etree._Element, spec: SdtmSpec) -> None:
    standards = etree.SubElement(mdv, _d("Standards"))
    etree.SubElement(standards, _d("Standard"), {"OID": STD_IG, "Name": "SDTMIG", "Type": "IG",
                                                 "Version": spec.settings.sdtmig_version, "Status": "Final"})
    package = spec.terminology.package
    etree.SubElement(standards, _d("Standard"), {"OID": STD_CT, "Name": "CDISC/NCI", "Type": "CT",
                                                 "PublishingSet": package.publishing_set, "Version": package.date,
                                                 "Status": "Final"})


def _value_lists(target: _Target, lists: Sequence[tuple[str, Iterable[_ValueItem]]]) -> None:
    for oid, items in lists:
        with target.value_list(oid) as inner:
            for n, item in enumerate(items, start=1):
                ref = etree.SubElement(inner.parent, _o("ItemRef"), {"ItemOID": item.oid, "OrderNumber": str(n),
                                                                      "Mandatory": "No"})
                etree.SubElement(ref, _d("WhereClauseRef"), {"WhereClauseOID": _where_oid(item)})
                inner.flush()
    for _, items in lists:
        for item in items:
            clause = etree.SubElement(target.parent, _d("WhereClauseDef"), {"OID": _where_oid(item)})
            for where_item, value in item.where:
                check = etree.SubElement(clause, _o("RangeCheck"), {"Comparator": "EQ", "SoftHard": "Soft",
                                                                    _d("ItemOID"): where_item})
                etree.SubElement(check, _o("CheckValue")).text = value
            target.flush()


def _item_group(mdv: etree._Element, dataset: Dataset, has_data: bool, header: DefineHeader) -> None:
    attrs = {"OID": item_group_oid(dataset.name), "Domain": dataset.name, "Name": dataset.name,
             "Repeating": "No", "IsReferenceData": "Yes", "SASDatasetName": dataset.name,
             _d("Structure"): dataset.structure, "Purpose": "Tabulation", _d("StandardOID"): STD_IG}
    if not has_data:
        attrs[_d("HasNoData")] = "Yes"
    elif header.archive_format:
        attrs[_d("ArchiveLocationID")] = f"LF.{dataset.name}"
    group = etree.SubElement(mdv, _o("ItemGroupDef"), attrs)
    _translated(group, _o("Description"), dataset.label)
    for n, column in enumerate(dataset.columns, start=1):
        ref = {"ItemOID": item_oid(dataset.name, column.name), "OrderNumber": str(n),
               "Mandatory": "Yes" if column.mandatory else "No"}
        if column.key_sequence is not None:
            ref["KeySequence"] = str(column.key_sequence)
        ref["Role"] = column.role
        etree.SubElement(group, _o("ItemRef"), ref)
    etree.SubElement(group, _d("Class"), {"Name": dataset.klass})
    if has_data and header.archive_format:
        href = f"{header.archive_format}/{dataset.name.lower()}.{header.archive_format}"
        leaf = etree.SubElement(group, _d("leaf"), {"ID": f"LF.{dataset.name}", f"{{{XLINK}}}href": href})
        etree.SubElement(leaf, _d("title")).text = href


def _item_def(mdv: etree._Element, oid: str, name: str, data_type: str, length: int | None, description: str,
              codelist: str | None, origin: str, spec: SdtmSpec, value_list: str | None = None,
              comment_oid: str | None = None) -> None:
    attrs = {"OID": oid, "Name": name, "DataType": data_type}
    if length is not None and data_type in ("text", "integer", "float"):
        attrs["Length"] = str(length)
    attrs["SASFieldName"] = name
    if comment_oid:
        attrs[_d("CommentOID")] = comment_oid
    item = etree.SubElement(mdv, _o("ItemDef"), attrs)
    _translated(item, _o("Description"), description)
    if codelist:
        etree.SubElement(item, _o("CodeListRef"), {"CodeListOID": codelist})
    _origin(item, origin, spec)
    if value_list:
        etree.SubElement(item, _d("ValueListRef"), {"ValueListOID": value_list})


def _column_codelist(dataset: Dataset, column: Column, facts: DefineFacts, codelists: _Codelists) -> str | None:
    if column.codelist:
        values = facts.codelist_values.get((dataset.name, column.name), set())
        if not values:
            return None  # an empty column needs no codelist (and an empty CodeList is not valid)
        codelists.add(column.codelist, values)
        return f"CL.{column.codelist}"
    if column.external:
        codelists.external[column.external] = None
        return f"CL.{column.external}"
    return None


def _codelist(mdv: etree._Element, codelist: Codelist, values: Iterable[str], spec: SdtmSpec) -> None:
    decoded = codelist.key == "TSPARMCD"
    element = etree.SubElement(mdv, _o("CodeList"), {
        "OID": f"CL.{codelist.key}", "Name": codelist.name, "DataType": "text", _d("StandardOID"): STD_CT})
    names = {p.code: p.name for p in spec.parameters}
    for n, value in enumerate(sorted(values), start=1):
        term = codelist.terms.get(value)
        attrs = {"CodedValue": value, "OrderNumber": str(n)}
        if term is None:
            attrs[_d("ExtendedValue")] = "Yes"
        item = etree.SubElement(element, _o("CodeListItem" if decoded else "EnumeratedItem"), attrs)
        if decoded:
            _translated(item, _o("Decode"), names.get(value, term.decode if term and term.decode else value))
        if term is not None and term.code:
            etree.SubElement(item, _o("Alias"), {"Context": "nci:ExtCodeID", "Name": term.code})
    etree.SubElement(element, _o("Alias"), {"Context": "nci:ExtCodeID", "Name": codelist.code})


def _external_codelist(mdv: etree._Element, key: str, spec: SdtmSpec) -> None:
    ext = spec.settings.external_codelists[key]
    element = etree.SubElement(mdv, _o("CodeList"), {"OID": f"CL.{key}", "Name": ext.name, "DataType": "text",
                                                       _d("IsNonStandard"): "Yes"})
    etree.SubElement(element, _o("ExternalCodeList"), {"Dictionary": ext.dictionary, "Version": ext.version,
                                                        "href": ext.href})


class _Ietest:
    """The IETEST value-level items, made afresh at each pass (the criteria are read again, not held)."""

    def __init__(self, facts: DefineFacts, spec: SdtmSpec) -> None:
        self.facts, self.spec = facts, spec

    def __iter__(self) -> Iterator[_ValueItem]:
        return _ietest_items(self.facts, self.spec)


def _root(spec: SdtmSpec, header: DefineHeader, description: str) -> tuple[etree._Element, etree._Element]:
    """The document's root and its MetaDataVersion (empty)."""
    root = etree.Element(_o("ODM"), {
        "ODMVersion": "1.3.2", "FileOID": header.file_oid, "FileType": "Snapshot",
        "CreationDateTime": header.creation_datetime, "Originator": spec.settings.define_originator,
        "SourceSystem": spec.settings.source_system, "SourceSystemVersion": header.source_version,
        _d("Context"): spec.settings.define_context,
    }, nsmap=NSMAP)
    study = etree.SubElement(root, _o("Study"), {"OID": header.study_oid})
    global_vars = etree.SubElement(study, _o("GlobalVariables"))
    etree.SubElement(global_vars, _o("StudyName")).text = header.study_name
    etree.SubElement(global_vars, _o("StudyDescription")).text = description
    etree.SubElement(global_vars, _o("ProtocolName")).text = header.protocol_name
    mdv = etree.SubElement(study, _o("MetaDataVersion"), {
        "OID": header.metadata_version_oid,
        "Name": f"SDTMIG {spec.settings.sdtmig_version} Trial Design datasets",
        "Description": "Trial Design Model datasets (TS, TA, TE, TV, TI) written by trialbridge from registry "
                       "records.",
        _d("DefineVersion"): spec.settings.define_version,
    })
    return root, mdv


def _metadata(target: _Target, facts: DefineFacts, spec: SdtmSpec, header: DefineHeader) -> None:
    """The MetaDataVersion's content, in document order."""
    mdv = target.parent
    _standards(mdv, spec)
    datasets = facts.datasets
    codelists = _Codelists()
    tsval = _tsval_items(facts, spec, codelists)
    ietest = _Ietest(facts, spec)
    has_ietest = len(facts.ietest) > 0
    lists = [(oid, items) for oid, items, used in (("VL.TS.TSVAL", tsval, bool(tsval)),
                                                    ("VL.TI.IETEST", ietest, has_ietest)) if used]
    _value_lists(target, lists)
    for dataset in datasets:
        _item_group(mdv, dataset, facts.has_data[dataset.name], header)
    vl_for = {("TS", "TSVAL"): "VL.TS.TSVAL" if tsval else None,
              ("TI", "IETEST"): "VL.TI.IETEST" if has_ietest else None}
    for dataset in datasets:
        for column in dataset.columns:
            _item_def(mdv, item_oid(dataset.name, column.name), column.name, _DEFINE_TYPES[column.type],
                      column.length, column.label, _column_codelist(dataset, column, facts, codelists), column.origin,
                      spec, vl_for.get((dataset.name, column.name)))
    for item in chain(tsval, ietest):
        _item_def(target.parent, item.oid, item.name, item.data_type, item.length, item.description, item.codelist,
                  "registry", spec, comment_oid=_comment_oid(item))
        target.flush()
    for key in sorted(codelists.used):
        _codelist(mdv, spec.terminology.codelists[key], codelists.used[key], spec)
    for key in sorted(codelists.external):
        _external_codelist(mdv, key, spec)
    _comment_defs(target, ietest)


def build_define(facts: DefineFacts, spec: SdtmSpec, header: DefineHeader) -> etree._Element:
    """The whole document as one tree."""
    root, mdv = _root(spec, header, header.study_description + ", ".join(header.study_ids))
    _metadata(_Tree(mdv), facts, spec, header)
    return root


def render_define(root: etree._Element) -> bytes:
    rendered: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return rendered


_IDS = "TRIALBRIDGE-STUDY-IDS"  # where the study ids go in the description


def stream_define(handle: IO[bytes], facts: DefineFacts, spec: SdtmSpec, header: DefineHeader) -> None:
    """`render_define(build_define(...))` written to `handle` a batch of elements at a time: what is held does
    not grow with the criteria described (read from `facts.ietest` once per section) nor with the study ids
    (their escaped text is written a thousand at a time)."""
    root, mdv = _root(spec, header, header.study_description + (_IDS if header.study_ids else ""))
    etree.SubElement(mdv, _o(_SPLIT))
    head, tail = _split_at(render_define(root))
    if header.study_ids:
        assert head.count(_IDS.encode()) == 1, "the description's placeholder occurs in the header"
        before, after = head.split(_IDS.encode())
        handle.write(before)
        ids = header.study_ids
        for n in range(0, len(ids), 1000):
            handle.write(_text_bytes((", " if n else "") + ", ".join(ids[n:n + 1000])))
        handle.write(after)
    else:
        handle.write(head)
    body = _Stream(handle, 2)
    _metadata(body, facts, spec, header)
    body.flush(force=True)
    handle.write(tail)
