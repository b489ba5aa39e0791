"""The results tables of benchmarks/README.md and README.md, generated from benchmarks/results/*.json.

    python -m benchmarks.report            # print the full table
    python -m benchmarks.report --write    # rewrite the tables between the markers in both READMEs
    python -m benchmarks.report --check    # exit 1 when a README differs from the JSON (CI's drift test)

Prose next to a table quotes no figure the JSON does not hold: the tables are the figures. Each
README holds one block between `<!-- results:NAME:begin -->` and `<!-- results:NAME:end -->`:
`full` (every row, benchmarks/README.md) and `headline` (rows with a goal, README.md). Results of
`python -m benchmarks --repeat N` show each median with its spread over the runs as `[min-max]`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks.__main__ import BENCHMARKS
from benchmarks.common import RESULTS, ROOT, fmt, spread

READMES = {"full": ROOT / "benchmarks" / "README.md", "headline": ROOT / "README.md"}
EXTRA = ("run_smoke",)
"""Results files outside `python -m benchmarks` whose rows the tables also show."""


def load(results: Path) -> list[tuple[str, dict[str, Any]]]:
    """(name, document) of every results file that exists, in run order."""
    docs = []
    for name in (*BENCHMARKS, *EXTRA):
        path = results / f"{name}.json"
        doc = json.loads(path.read_text()) if path.is_file() else {}
        if "rows" in doc:  # an older run_smoke.json (hand-written, no rows) is not a result
            docs.append((name, doc))
    return docs


def cells(name: str, row: dict[str, Any], link: str) -> str:
    met = "-" if row["met"] is None else ("yes" if row["met"] else "**no**")
    peer = f"{fmt(row['peer'], row['unit'])} ({row['peer_name']})" if row["peer_name"] else fmt(row["peer"], row["unit"])
    ratio = ("-" if row["ratio"] is None else f"{row['ratio']:.2f}") + spread(row, "ratio")
    own = fmt(row["astrobio"], row["unit"]) + spread(row, "astrobio")
    return (f"| [{name}]({link}{name}.json) | {row['name']} | {own} | {peer} | {ratio} | "
            f"{row['goal']} | {met} | {row['note']} |")


def render(docs: list[tuple[str, dict[str, Any]]], kind: str) -> str:
    """The markdown block: table, then each run's command, date and machine (pure)."""
    link = "results/" if kind == "full" else "benchmarks/results/"
    lines = ["| benchmark | case | astrobio | peer | ratio | goal | met? | note |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    runs = []
    for name, doc in docs:
        rows = [r for r in doc["rows"] if kind == "full" or not r["goal"].startswith(("report", "n/a")) and r["goal"]]
        lines += [cells(name, r, link) for r in rows]
        m = doc["machine"]
        quick = " (--quick: plumbing only, not a measurement)" if doc.get("quick") else ""
        repeat = (doc.get("details") or {}).get("repeat")
        quick += f" (median of {repeat} runs, [min-max] beside it)" if repeat else ""
        runs.append(f"- {name}: `{doc['command']}`, {doc.get('created', '?')}, {m['cpu']}, {m['cores']} cores, "
                    f"torch {m['torch']}, GPU {m['gpu'] or 'none'}{quick}")
    return "\n".join([*lines, "", "Runs:", *runs])


def replace_block(text: str, kind: str, block: str) -> str:
    pattern = re.compile(rf"(<!-- results:{kind}:begin -->\n).*?(<!-- results:{kind}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{READMES[kind]}: no <!-- results:{kind}:begin/end --> markers")
    return pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    docs = load(args.results)
    if not (args.write or args.check):
        print(render(docs, "full"))
        return 0
    stale = []
    for kind, path in READMES.items():
        text = path.read_text()
        new = replace_block(text, kind, render(docs, kind))
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if args.write:
                path.write_text(new)
    if args.check and stale:
        print(f"{', '.join(stale)} differ from benchmarks/results/*.json: run `python -m benchmarks.report --write`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
