"""
What the benchmarks share: the mode (``HOSTNODE_BENCH=full`` under ``make bench``; otherwise a
tiny size and one round, so ``make test`` keeps the bench code running without timing it),
timing a contender, recording rows, and writing tests/bench/RESULTS.md and results.json.

A row id is ``<case>.<contender>.<size>`` (``anyip.converge.1000``); ``<case>`` is the name of
its file, test_<case>_bench.py, and ``make bench BENCH=<case>`` rewrites only that case's rows.
Each row may name a baseline row measured in the same run: its ratio is median / baseline median.
"""

import json
import math
import os
import pathlib
import platform
import statistics
import time

from saltext.hostnode.utils import files as hostnode_files

FULL = os.environ.get("HOSTNODE_BENCH") == "full"
ROUNDS = 3 if FULL else 1
ROWS = {}


def sizes(full, tiny):
    """The sizes a case measures: full under make bench, tiny otherwise."""
    return full if FULL else tiny


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def samples(action, rounds=ROUNDS):
    """Seconds of action over rounds runs (for pure code: parsers, planners)."""
    return [timed(action) for _ in range(rounds)]


def run_sls(loaders, text):
    """Apply SLS text in this process (state.template_str); every state must succeed."""
    result = loaders.modules.state.template_str(text)
    failed = [state.comment for state in result if state.result is not True]
    assert not failed, failed[:3]
    return result


def measure(make_node, contender, again=True):
    """
    Seconds of contender on a fresh node (a first converge) and, with again, of running it a
    second time on the same node (a no-op run), over ROUNDS rounds: (first, second or None).
    """
    first, second = [], []
    for _ in range(ROUNDS):
        node = make_node()
        with node.entered():
            first.append(timed(contender))
            if again:
                second.append(timed(contender))
    return first, second if again else None


def record(row_id, seconds, baseline=None, note=""):
    """Keep a row: its seconds (a list, or one number), the row it is compared with, a note."""
    seconds = seconds if isinstance(seconds, list) else [seconds]
    median = statistics.median(seconds)
    row = {"median_s": median, "min_s": min(seconds), "max_s": max(seconds),
           "rounds": len(seconds), "baseline": baseline, "ratio": None}  # fmt: skip
    if baseline is not None:
        row["ratio"] = median / ROWS[baseline]["median_s"]
    if note:
        row["note"] = note
    ROWS[row_id] = row
    return row


def growth(row_prefix):
    """
    How the rows ``<row_prefix>.<size>`` grow: the exponent k of time ~ size**k fitted over
    their sizes (least squares on logs), kept on the largest row and returned.
    """
    points = sorted((int(row_id.rsplit(".", 1)[1]), row["median_s"])
                    for row_id, row in ROWS.items()
                    if row_id.rsplit(".", 1)[0] == row_prefix)  # fmt: skip
    if len(points) < 2:
        return None
    logs = [(math.log(size), math.log(seconds)) for size, seconds in points]
    mean_x = statistics.fmean(x for x, _ in logs)
    mean_y = statistics.fmean(y for _, y in logs)
    exponent = sum((x - mean_x) * (y - mean_y) for x, y in logs) / sum(
        (x - mean_x) ** 2 for x, _ in logs
    )
    ROWS[f"{row_prefix}.{points[-1][0]}"]["growth"] = {
        "exponent": round(exponent, 2), "sizes": [size for size, _ in points],
    }  # fmt: skip
    return exponent


def merged(previous, cases):
    """The rows of previous whose case did not run now, and this run's rows."""
    kept = {row_id: row for row_id, row in previous.items() if row_id.split(".")[0] not in cases}
    return dict(sorted({**kept, **ROWS}.items(), key=lambda item: by_size(item[0])))


def by_size(row_id):
    """Sort key of a row id: its contender, then its size as a number."""
    contender, _, size = row_id.rpartition(".")
    return (contender, int(size)) if size.isdecimal() else (row_id, 0)


def machine():
    lines = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{os.cpu_count()} x {cpu}, Linux {platform.release()}"


# Figures the test lanes measure (not make bench), kept by hand with the run they come from:
# RESULTS.md ends with them, so a bench run keeps them.
LANE_FIGURES = "lane-figures.md"


def markdown(rows, measured_on, lane_figures=""):
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`make bench BENCH=<case>` rewrites one case's rows); the",
        "machine-readable rows are in results.json. Each ratio is this row's median over its",
        "baseline's, both measured in the same run.",
        "",
        f"Measured on: {measured_on}",
        "",
        "| row | median | min | max | rounds | baseline | ratio | growth | note |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for row_id, row in rows.items():
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
        fitted = row.get("growth")
        grown = f"size^{fitted['exponent']} over {fitted['sizes']}" if fitted else ""
        lines.append(
            f"| `{row_id}` | {seconds_text(row['median_s'])} | {seconds_text(row['min_s'])} "
            f"| {seconds_text(row['max_s'])} | {row['rounds']} | {row['baseline'] or ''} "
            f"| {ratio} | {grown} | {row.get('note', '')} |"
        )
    return "\n".join(lines) + "\n" + (f"\n{lane_figures}" if lane_figures else "")


def seconds_text(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def write_results(directory, cases):
    """Merge this run's rows into results.json and rewrite RESULTS.md from it (full mode only)."""
    path = directory / "results.json"
    rows = merged(json.loads(path.read_text()) if path.exists() else {}, cases)
    hostnode_files.replace(str(path), json.dumps(rows, indent=1) + "\n")
    figures = directory / LANE_FIGURES
    lane_figures = figures.read_text() if figures.exists() else ""
    hostnode_files.replace(str(directory / "RESULTS.md"), markdown(rows, machine(), lane_figures))
