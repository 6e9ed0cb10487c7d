"""Print the results of ``make bench`` (``benchmarks/results/*.json``) as the Markdown tables
of ``docs/benchmarks.md``: SQLite and PostgreSQL side by side.

    python benchmarks/report.py            # after make bench (or any of the scripts)

It reads what is there: a database not measured is left out. It exits non-zero when there is
nothing to report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))
PAGE_TARGET_MS = 1000
RATIO_TARGET = 2.0


def load(name: str) -> dict | None:
    path = ROOT / "benchmarks" / "results" / f"{name}.json"
    if not path.exists():
        return None
    results = json.loads(path.read_text())
    if "versions" not in results:
        print(
            f"(ignored: {path.name} was written by an older version of the scripts)",
            file=sys.stderr,
        )
        return None
    return results


def number(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> list[str]:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def main() -> None:
    from benchmarks.common import machine_line

    pages = {key: load(key) for key, _label in DATABASES}
    imports = {key: load(f"import-{key}") for key, _label in DATABASES}
    compliance = {key: load(f"compliance-{key}") for key, _label in DATABASES}
    present = [(k, label) for k, label in DATABASES if pages[k] or imports[k] or compliance[k]]
    if not present:
        sys.exit("No results in benchmarks/results/: run make bench first.")
    out: list[str] = []

    out += ["**Machine and versions**", ""]
    for key, label in present:
        head = pages[key] or imports[key] or compliance[key]
        out.append(f"* {label}: {machine_line(head)}.")
    out.append("")

    measured = [(k, label) for k, label in present if pages[k]]
    if measured:
        for key, label in measured:
            data = pages[key]["data"]
            out.append(
                f"**Data, {label}** (`seed_demo --scale city`): {data['organizations']:,} "
                f"organizations, {data['members']:,} members, {data['meetings']:,} meetings, "
                f"{data['dues_payments']:,} dues payments, {data['development_records']:,} "
                "development records."
            )
        out.append("")
        rows = []
        for key, label in measured:
            seeding = pages[key].get("seeding")
            if seeding:
                rows.append(
                    [
                        label,
                        number(seeding["seconds"]),
                        number(seeding["history_seconds"]),
                        number(seeding["peak_rss_mb"]),
                    ]
                )
        if rows:
            out += table(
                ["`seed_demo --scale city`", "wall s", "of which meetings s", "peak RSS MB"], rows
            )
            out.append("")

        names: list[str] = []
        for key, _label in measured:
            names += [n for n in pages[key]["pages"] if n not in names]
        header = ["page"]
        for key, label in measured:
            header += [f"{label} ms", "floor ms", "ratio"]
            if key == "postgresql":
                header.append("floor, JIT off")
        header.append("queries")
        rows = []
        for name in names:
            row = [name]
            queries = []
            for key, _label in measured:
                page = pages[key]["pages"].get(name)
                extra = int(key == "postgresql")
                if page is None:
                    row += ["—", "", ""] + [""] * extra
                    continue
                floor = page.get("floor")
                ms = number(page["median_ms"])
                if page["median_ms"] >= PAGE_TARGET_MS:
                    ms = f"**{ms}**"
                if floor:
                    ratio = number(page["ratio"])
                    if page["ratio"] > RATIO_TARGET:
                        ratio = f"**{ratio}**"
                    row += [ms, number(floor["median_ms"], 2), ratio]
                    if extra:
                        row.append(number(floor.get("without_jit", {}).get("median_ms"), 2))
                elif "no_floor" in page:
                    row += [ms, "(to write)", ""] + [""] * extra
                else:
                    row += [ms, "", ""] + [""] * extra
                queries.append(str(page["queries"]))
            row.append(" / ".join(dict.fromkeys(queries)))
            rows.append(row)
        runs = " / ".join(f"{pages[k]['runs']} ({pages[k]['slow_runs']})" for k, _ in measured)
        out += [
            f"Pages for the root of the city, signed in as its committee administrator: median "
            f"of {runs} requests (in brackets: for a page over a second), milliseconds; "
            "floor: one hand-written SQL statement returning the page's numbers (median, plain "
            "cursor; on PostgreSQL also with JIT off); ratio: page / floor; bold: over "
            f"{PAGE_TARGET_MS:,} ms or over {RATIO_TARGET:g}× the floor.",
            "",
            *table(header, rows),
            "",
            "Peak RSS of the measuring process: "
            + ", ".join(f"{number(pages[k]['peak_rss_mb'])} MB ({label})" for k, label in measured)
            + ".",
            "",
        ]

    measured = [(k, label) for k, label in present if imports[k]]
    if measured:
        rows = []
        for step_index, step in enumerate(imports[measured[0][0]]["steps"]):
            row = [step["step"]]
            for key, _label in measured:
                other = imports[key]["steps"][step_index]
                row += [
                    number(other["seconds"]),
                    number(other["rows_per_second"]),
                    number(other["peak_rss_mb"]),
                ]
            rows.append(row)
        header = ["step"]
        for _key, label in measured:
            header += [f"{label} s", "rows/s", "peak RSS MB"]
        first = imports[measured[0][0]]
        out += [
            f"Roster import of {first['rows']:,} new members ({first['file_mb']} MB .xlsx) on "
            f"the city above (after the pages):",
            "",
            *table(header, rows),
            "",
        ]

    measured = [(k, label) for k, label in present if compliance[k]]
    if measured:
        rows = []
        for name, field in (
            ("`compute()`, city, one year", "engine"),
            ("`rollup()` of it (matrix rows)", "rollup"),
            ("`compute()` + `rollup()`", "engine_and_rollup"),
            ("floor: one SQL statement", "floor"),
        ):
            rows.append([name] + [number(compliance[k][field]["median_ms"]) for k, _ in measured])
        rows.append(
            ["**ratio `compute()` / floor**"]
            + [f"**{number(compliance[k]['ratio'], 2)}**" for k, _ in measured]
        )
        rows.append(
            ["`compute()`: its queries replayed on a plain cursor"]
            + [number(compliance[k]["engine_split"]["sql_ms"]) for k, _ in measured]
        )
        rows.append(
            ["`compute()`: the rest (Python)"]
            + [number(compliance[k]["engine_split"]["python_ms"]) for k, _ in measured]
        )
        first = compliance[measured[0][0]]
        cells = "; ".join(
            f"{label} {compliance[k]['cells']:,} cells for "
            f"{compliance[k]['organizations_owing']:,} organizations"
            for k, label in measured
        )
        out += [
            f"Compliance engine (`benchmarks/compliance.py`), the city over {first['year']} "
            f"({cells}); median of {first['runs']}, milliseconds:",
            "",
            *table(["measurement", *(label for _k, label in measured)], rows),
            "",
        ]
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
