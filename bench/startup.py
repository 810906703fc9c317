"""Start-up cost of `mbcalc table`, against importing the libraries it cannot do without.

Times whole processes (several runs each, interleaved, median) and prints the ratio of

    mbcalc table mobilenet_v1 --format json
    python -c "import typer, rich.console, rich.table, yaml"

measured in this one run on this machine. Target: ratio <= 1.15. `--command list` times another
command of mbcalc in its place. With --imports N, it also lists the N modules of mbcalc that
take longest to import (their own time, without the modules they import; the least of the
runs, as `python -X importtime` measures it).

    python bench/startup.py [--runs N] [--imports N] [--command "list"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter

BASELINE = [sys.executable, "-c", "import typer, rich.console, rich.table, yaml"]
COMMAND = [sys.executable, "-m", "mbcalc", "table", "mobilenet_v1", "--format", "json"]
TARGET = 1.15

# Installed packages (typer, rich, yaml, and mbcalc after `pip install .`) load from compiled
# bytecode. An editable checkout in an environment with PYTHONDONTWRITEBYTECODE would compile
# mbcalc from source on every run and measure the compiler, so the runs may write bytecode.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def wall_time(command: list[str]) -> float:
    """Seconds one process takes from spawn to exit."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def loaded_modules() -> set[str]:
    """Top-level modules `mbcalc table` imports (checked: numpy must not be among them)."""
    probe = (
        "import sys, runpy; sys.argv = ['mbcalc', 'table', 'mobilenet_v1', '--format', 'json']\n"
        "try:\n    runpy.run_module('mbcalc', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=ENV
    )
    return set(result.stderr.split())


def import_times(runs: int) -> dict[str, int]:
    """Microseconds each mbcalc module of `mbcalc table` takes to import itself, least of `runs`."""
    least: dict[str, int] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", *COMMAND[1:]],
            check=True, capture_output=True, text=True, env=ENV,
        )  # fmt: skip
        own: Counter[str] = Counter()
        for line in result.stderr.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) == 3 and fields[2].strip().startswith("mbcalc"):
                own[fields[2].strip()] += int(fields[0])
        least = {name: min(micros, least.get(name, micros)) for name, micros in own.items()}
    return least


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--imports", type=int, default=0, metavar="N", help="list N modules")
    parser.add_argument("--command", help="the mbcalc command to time instead, e.g. list")
    arguments = parser.parse_args()
    runs = arguments.runs
    if arguments.command:
        COMMAND[3:] = arguments.command.split()

    for command in (BASELINE, COMMAND):  # warm the file cache and bytecode
        wall_time(command)
    baseline, mbcalc = [], []
    for _ in range(runs):
        baseline.append(wall_time(BASELINE))
        mbcalc.append(wall_time(COMMAND))
    base_median, mbcalc_median = statistics.median(baseline), statistics.median(mbcalc)
    ratio = mbcalc_median / base_median
    heavy = sorted(loaded_modules() & {"numpy", "pydantic", "pandas", "torch"})
    print(f"runs                 {runs} each, interleaved")
    print(f"import baseline      {base_median * 1000:7.1f} ms median  ({' '.join(BASELINE[1:])})")
    name = f"mbcalc {COMMAND[3]}"
    print(f"{name:20} {mbcalc_median * 1000:7.1f} ms median  ({' '.join(COMMAND[1:])})")
    verdict = "ok" if ratio <= TARGET else "OVER"
    print(f"ratio                {ratio:7.2f}  (target <= {TARGET})  {verdict}")
    print(f"heavy imports        {', '.join(heavy) if heavy else 'none'}")
    if arguments.imports:
        times = import_times(runs)
        print(f"mbcalc's imports     {sum(times.values()) / 1000:7.1f} ms in {len(times)} modules")
        for name, micros in sorted(times.items(), key=lambda item: -item[1])[: arguments.imports]:
            print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
