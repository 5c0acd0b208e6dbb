"""Define-XML 2.1 for a package of Trial Design tables: datasets, variables, value-level metadata, codelists.

The document describes exactly what was written: one ItemGroupDef per dataset (class TRIAL DESIGN), one ItemDef
per column present, value-level metadata for TSVAL per TSPARMCD (data type, length and codelist of each
parameter's values) and for IETEST where a criterion was shortened (its full text) or its text lost a comparison
sign (a def:CommentDef saying so and naming the damaged phrases, since TI has no variable for it), and a CodeList
per controlled terminology in use listing only the terms used; sponsor extensions are marked
def:ExtendedValue="Yes". Null flavours and country codes refer to external dictionaries (ISO 21090,
ISO 3166). Output is deterministic: OIDs derive from dataset, variable and parameter names; the creation
date-time is the package's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
    ietest: list[IetestFact]
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


def _ietest_items(facts: DefineFacts, spec: SdtmSpec) -> list[_ValueItem]:
    """IETEST per criterion that was shortened (described by its full text) or whose text lost a comparison sign
    (commented as damaged, naming the phrases; the sign is not guessed)."""
    items = []
    for fact in facts.ietest:
        comment = spec.settings.damaged_comparator_comment.format(
            phrases=", ".join(f"'{p}'" for p in fact.phrases)) if fact.phrases else None
        where: tuple[tuple[str, str], ...] = ((item_oid("TI", "IETESTCD"), fact.code),)
        suffix = fact.code
        if facts.several:
            where = ((item_oid("TI", "STUDYID"), fact.study_id), *where)
            suffix = f"{safe_oid(fact.study_id)}.{fact.code}"
        items.append(_ValueItem(
            oid=f"IT.TI.IETEST.{suffix}", name="IETEST", data_type="text", length=fact.length,
            description=fact.full, codelist=None, where=where, comment=comment,
        ))
    return items


def _where_oid(item: _ValueItem) -> str:
    return "WC." + item.oid.removeprefix("IT.")


def _comment_oid(item: _ValueItem) -> str | None:
    return "COM." + item.oid.removeprefix("IT.") if item.comment else None


def _comment_defs(mdv: etree._Element, items: Iterable[_ValueItem]) -> None:
    for item in items:
        oid = _comment_oid(item)
        if oid and item.comment:
            comment = etree.SubElement(mdv, _d("CommentDef"), {"OID": oid})
            _translated(comment, _o("Description"), item.comment)


# --- the document ------------------------------------------------------------------------------------


def _standards(mdv: etree._Element, spec: SdtmSpec) -> None:
    standards = etree.SubElement(mdv, _d("Standards"))
    etree.SubElement(standards, _d("Standard"), {"OID": STD_IG, "Name": "SDTMIG", "Type": "IG",
                                                 "Version": spec.settings.sdtmig_version, "Status": "Final"})
    package = spec.terminology.package
    etree.SubElement(standards, _d("Standard"), {"OID": STD_CT, "Name": "CDISC/NCI", "Type": "CT",
                                                 "PublishingSet": package.publishing_set, "Version": package.date,
                                                 "Status": "Final"})


def _value_lists(mdv: etree._Element, lists: Sequence[tuple[str, list[_ValueItem]]]) -> None:
    for oid, items in lists:
        value_list = etree.SubElement(mdv, _d("ValueListDef"), {"OID": oid})
        for n, item in enumerate(items, start=1):
            ref = etree.SubElement(value_list, _o("ItemRef"), {"ItemOID": item.oid, "OrderNumber": str(n),
                                                                "Mandatory": "No"})
            etree.SubElement(ref, _d("WhereClauseRef"), {"WhereClauseOID": _where_oid(item)})
    for _, items in lists:
        for item in items:
            clause = etree.SubElement(mdv, _d("WhereClauseDef"), {"OID": _where_oid(item)})
            for target, value in item.where:
                check = etree.SubElement(clause, _o("RangeCheck"), {"Comparator": "EQ", "SoftHard": "Soft",
                                                                    _d("ItemOID"): target})
                etree.SubElement(check, _o("CheckValue")).text = value


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


def build_define(facts: DefineFacts, spec: SdtmSpec, header: DefineHeader) -> etree._Element:
    root = etree.Element(_o("ODM"), {
        "ODMVersion": "1.3.2", "FileOID": header.file_oid, "FileType": "Snapshot",
        "CreationDateTime": header.creation_datetime, "Originator": spec.settings.define_originator,
        "SourceSystem": spec.settings.source_system, "SourceSystemVersion": header.source_version,
        _d("Context"): spec.settings.define_context,
    }, nsmap=NSMAP)
    study = etree.SubElement(root, _o("Study"), {"OID": header.study_oid})
    global_vars = etree.SubElement(study, _o("GlobalVariables"))
    etree.SubElement(global_vars, _o("StudyName")).text = header.study_name
    etree.SubElement(global_vars, _o("StudyDescription")).text = header.study_description
    etree.SubElement(global_vars, _o("ProtocolName")).text = header.protocol_name
    mdv = etree.SubElement(study, _o("MetaDataVersion"), {
        "OID": header.metadata_version_oid,
        "Name": f"SDTMIG {spec.settings.sdtmig_version} Trial Design datasets",
        "Description": "Trial Design Model datasets (TS, TA, TE, TV, TI) written by trialbridge from registry "
                       "records.",
        _d("DefineVersion"): spec.settings.define_version,
    })
    _standards(mdv, spec)

    datasets = facts.datasets
    codelists = _Codelists()
    tsval = _tsval_items(facts, spec, codelists)
    ietest = _ietest_items(facts, spec)
    lists = [(oid, items) for oid, items in (("VL.TS.TSVAL", tsval), ("VL.TI.IETEST", ietest)) if items]
    _value_lists(mdv, lists)
    for dataset in datasets:
        _item_group(mdv, dataset, facts.has_data[dataset.name], header)
    vl_for = {("TS", "TSVAL"): "VL.TS.TSVAL" if tsval else None, ("TI", "IETEST"): "VL.TI.IETEST" if ietest else None}
    for dataset in datasets:
        for column in dataset.columns:
            _item_def(mdv, item_oid(dataset.name, column.name), column.name, _DEFINE_TYPES[column.type],
                      column.length, column.label, _column_codelist(dataset, column, facts, codelists), column.origin,
                      spec, vl_for.get((dataset.name, column.name)))
    for item in (*tsval, *ietest):
        _item_def(mdv, item.oid, item.name, item.data_type, item.length, item.description, item.codelist,
                  "registry", spec, comment_oid=_comment_oid(item))
    for key in sorted(codelists.used):
        _codelist(mdv, spec.terminology.codelists[key], codelists.used[key], spec)
    for key in sorted(codelists.external):
        _external_codelist(mdv, key, spec)
    _comment_defs(mdv, ietest)
    return root


def render_define(root: etree._Element) -> bytes:
    rendered: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return rendered

