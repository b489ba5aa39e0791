"""Markdown table of the latest results, for benchmarks/README.md.

    python -m benchmarks.report [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.__main__ import BENCHMARKS
from benchmarks.common import RESULTS, fmt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    print("| benchmark | case | astrobio | peer | ratio | goal | met? | note |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    machines = set()
    for name in BENCHMARKS:
        path = args.results / f"{name}.json"
        if not path.is_file():
            continue
        doc = json.loads(path.read_text())
        m = doc["machine"]
        machines.add(f"{m['cpu']}, {m['cores']} cores, torch {m['torch']}, GPU {m['gpu'] or 'none'}")
        for r in doc["rows"]:
            met = "-" if r["met"] is None else ("yes" if r["met"] else "**no**")
            peer = f"{fmt(r['peer'], r['unit'])} ({r['peer_name']})" if r["peer_name"] else fmt(r["peer"], r["unit"])
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
            print(f"| [{name}](results/{name}.json) | {r['name']} | {fmt(r['astrobio'], r['unit'])} | {peer} | {ratio} | "
                  f"{r['goal']} | {met} | {r['note']} |")
    print()
    for m in sorted(machines):
        print(f"Machine: {m}")


if __name__ == "__main__":
    main()
