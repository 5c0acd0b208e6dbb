"""Run CDISC CORE rules with the real engine (`cdisc-rules-engine` 0.9.2), offline, for the cross-check test.

This script runs inside its own virtual environment (see `engine_venv.py`), never in trialbridge's. It is the
small harness described in shared `standards/measured-costs.md` section 1: it does what the engine's CLI does
(the CLI's `scripts/` folder is not in the wheel) with a stub of the CDISC Library metadata, so that no API
key and no network are needed.

Usage: python run_core_engine.py JOB.json RESULT.json

JOB.json: {"rules_file": path, "rule_ids": [...], "standard": "sdtmig", "version": "3-4",
           "work_dir": path, "cases": {name: {DOMAIN: {"columns": [[name, "char"|"num"], ...],
                                                    "rows": [[...], ...]}}},
           "values": {"dates": [...], "durations": [...]}}
RESULT.json: {"network_attempts": [...], "cases": {name: {rule_id: {DATASET: {"status": ..., "rows": [...],
              "error": text}}}}, "values": {"dates": [bool...], "durations": [...], "durations_not_negative": [...]}}
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

NETWORK_ATTEMPTS: list[str] = []


def forbid_network() -> None:
    """Make every outgoing connection fail at once and record it: the cross-check must run offline."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        NETWORK_ATTEMPTS.append(repr(args[:2]))
        raise OSError("network disabled in the CORE cross-check harness")

    socket.create_connection = refuse
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]


def underscore_keys(value: Any) -> Any:
    """Rule YAML keys with spaces (`Rule Type`) become `Rule_Type`, as the engine's CLI loader does."""
    if isinstance(value, dict):
        return {str(k).replace(" ", "_"): underscore_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [underscore_keys(v) for v in value]
    return value


def standard_stub(domains: list[str]) -> dict[str, Any]:
    """The least CDISC Library standard metadata the engine needs: the Trial Design class and its datasets."""
    return {
        "name": "SDTMIG stub for the trialbridge cross-check",
        "_links": {"model": {"href": "/mdr/sdtm/2-0"}},
        "domains": domains,
        "classes": [
            {"name": "Trial Design", "datasets": [{"name": d, "datasetVariables": []} for d in domains]}
        ],
    }


def write_case(folder: Path, tables: dict[str, Any]) -> list[str]:
    """Write one case's tables as SAS XPORT v5 files (what a submission holds); returns the paths."""
    import pandas as pd
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for domain, table in sorted(tables.items()):
        names = [c[0] for c in table["columns"]]
        kinds = {c[0]: c[1] for c in table["columns"]}
        frame = pd.DataFrame(table["rows"], columns=names)
        for name in names:
            if kinds[name] == "num":
                frame[name] = pd.to_numeric(frame[name]).astype("float64")
            else:
                frame[name] = frame[name].map(lambda v: "" if v is None else str(v)).astype(object)
        path = folder / f"{domain.lower()}.xpt"
        pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name=domain)
        paths.append(str(path))
    return paths


def summarise(result: list[dict[str, Any]]) -> dict[str, Any]:
    """One rule on one dataset: status, flagged rows (1-based) and the error text when it did not run."""
    statuses = {r.get("executionStatus") for r in result}
    rows: list[int] = []
    errors: list[str] = []
    for item in result:
        for err in item.get("errors") or []:
            if "value" in err:  # a finding; one about the whole dataset has no row: 0
                rows.append(int(err.get("row", 0)))
            elif err.get("error") or err.get("message"):
                errors.append(f"{err.get('error', '')}: {err.get('message', '')}")
        if item.get("executionStatus") == "skipped" and item.get("message"):
            errors.append(str(item["message"]))
    if "execution_error" in statuses:
        status = "execution_error"
    elif statuses == {"skipped"}:
        status = "skipped"
    else:
        status = "success"
    return {"status": status, "rows": sorted(rows), "error": "; ".join(errors)}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    import yaml
    from cdisc_rules_engine.models.library_metadata_container import LibraryMetadataContainer
    from cdisc_rules_engine.models.rule import Rule
    from cdisc_rules_engine.models.rule_conditions import ConditionCompositeFactory
    from cdisc_rules_engine.rules_engine import RulesEngine
    from cdisc_rules_engine.services import logger
    from cdisc_rules_engine.services.cache import InMemoryCacheService

    logger.disabled = True  # the engine logs every rule at INFO with tracebacks; the result file says enough
    wanted = set(job["rule_ids"])
    entries = yaml.safe_load(Path(job["rules_file"]).read_text(encoding="utf-8"))
    rules = []
    for entry in entries:
        if entry["core_id"] not in wanted:
            continue
        rule = Rule.from_cdisc_metadata(underscore_keys(entry["rule"]))
        rule["conditions"] = ConditionCompositeFactory.get_condition_composite(rule["conditions"])
        rules.append(rule)

    out: dict[str, Any] = {}
    for case_name, tables in sorted(job["cases"].items()):
        folder = Path(job["work_dir"]) / case_name
        paths = write_case(folder, tables)
        library = LibraryMetadataContainer(
            standard_metadata=standard_stub(sorted(tables)),
            model_metadata={},
            variable_codelist_map={},
            variables_metadata={},
            ct_package_metadata={},
            published_ct_packages=set(),
        )
        cache = InMemoryCacheService.get_instance()
        engine = RulesEngine(
            cache=cache,
            standard=job["standard"],
            standard_version=job["version"],
            library_metadata=library,
            ct_packages=[],
            dataset_paths=paths,
            max_dataset_size=max(os.path.getsize(p) for p in paths),
        )
        datasets = [engine.data_service.get_raw_dataset_metadata(dataset_name=p) for p in paths]
        case_out: dict[str, Any] = {}
        for rule in rules:
            per_dataset = {}
            for meta in datasets:
                result = engine.validate_single_rule(rule, meta.full_path, datasets, meta)
                per_dataset[meta.name] = summarise(result)
            case_out[rule["core_id"]] = per_dataset
        out[case_name] = case_out
    return out


def judge_values(values: dict[str, list[str]]) -> dict[str, list[bool]]:
    """The engine's own ISO 8601 date and duration checks (behind `invalid_date` / `invalid_duration`)."""
    from business_rules.utils import is_valid_date, is_valid_duration

    return {
        "dates": [bool(is_valid_date(v)) for v in values.get("dates", [])],
        "durations": [bool(is_valid_duration(v, True)) for v in values.get("durations", [])],
        "durations_not_negative": [bool(is_valid_duration(v, False)) for v in values.get("durations", [])],
    }


def main(argv: list[str]) -> int:
    os.environ.pop("CDISC_LIBRARY_API_KEY", None)
    forbid_network()
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    os.chdir(job["work_dir"])  # the engine resolves some resources relative to the current directory
    cases = run_job(job)
    judged = judge_values(job.get("values", {}))
    Path(argv[2]).write_text(
        json.dumps({"network_attempts": NETWORK_ATTEMPTS, "cases": cases, "values": judged}, indent=1, sort_keys=True),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
