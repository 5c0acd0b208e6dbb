"""Convert every fixture with every target and format, and compare two such snapshots byte for byte.

A refactoring must not change one byte of output. Take a snapshot before and after and compare:

    .venv/bin/python tools/output_snapshot.py take /tmp/before      # at the commit before
    .venv/bin/python tools/output_snapshot.py take /tmp/after       # at the commit after
    .venv/bin/python tools/output_snapshot.py compare /tmp/before /tmp/after

`take` runs the command-line tool as a user would (`python -m converters.cli`, from the repository root, on the
fixture folders) in each configuration below, and keeps every file written, plus each command's exit code and
console output (with the snapshot folder replaced by `<OUT>`). `compare` lists every file that is only on one
side or differs, and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("fixtures/seeds", "fixtures/ctgov/v2", "fixtures/ctgov/xml", "fixtures/ctgov/v1")
ALL_TARGETS = "fhir-r4,fhir-r5,sdtm"

# name -> arguments after `convert INPUTS --out DIR`
CONVERT_RUNS: dict[str, list[str]] = {
    "collection-per-study": ["--to", ALL_TARGETS, "--problems"],
    "transaction-concatenated": ["--to", ALL_TARGETS, "--bundle", "transaction", "--sdtm-layout", "concatenated"],
    "study-only": ["--problems"],
    "no-validate": ["--to", ALL_TARGETS, "--no-validate", "--sdtm-formats", "csv,define"],
    "bulk": ["--to", ALL_TARGETS, "--layout", "bulk", "--sdtm-formats", "csv,json,xpt,define"],
}


def _run(args: list[str], out: Path, name: str) -> None:
    """Run the CLI with `args`; keep its exit code and console output beside its files."""
    done = subprocess.run([sys.executable, "-m", "converters.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env={"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    console = (done.stdout + "\n--- stderr ---\n" + done.stderr).replace(str(out), "<OUT>")
    (out / f"{name}.console.txt").write_text(f"exit {done.returncode}\n{console}", encoding="utf-8")


def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=False)
    for name, extra in CONVERT_RUNS.items():
        target = out / name
        _run(["convert", *INPUTS, "--out", str(target), *extra], out, name)
    seeds = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))
    for page in seeds:
        _run(["inspect", str(page.relative_to(ROOT)), "--json"], out, f"inspect-{page.stem}")
    _run(["coverage", *INPUTS[1:], "--json-file", str(out / "coverage.json")], out, "coverage")
    first = out / "collection-per-study"
    for study in sorted(p for p in first.iterdir() if p.is_dir()):
        _run(["validate", str(study / "fhir-r4" / "bundle.json"), str(study / "fhir-r5" / "bundle.json"),
              str(study / "sdtm"), str(study / "study.json")], out, f"validate-{study.name}")
    files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"snapshot of {files} files in {out}")


def compare(before: Path, after: Path) -> int:
    left = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    right = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    differences = [f"only before: {p}" for p in sorted(left - right)]
    differences += [f"only after: {p}" for p in sorted(right - left)]
    differences += [f"differs: {p}" for p in sorted(left & right)
                    if not filecmp.cmp(before / p, after / p, shallow=False)]
    for line in differences:
        print(line)
    print(f"{len(left & right)} files in both, {len(differences)} differences")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("take").add_argument("out", type=Path)
    cmp = commands.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "take":
        take(args.out.resolve())
        return 0
    return compare(args.before.resolve(), args.after.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
