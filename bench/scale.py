"""How `mbcalc table` and `mbcalc roofline` scale with the number of ops.

Writes specs of about 1,000, 10,000 and 100,000 ops (separable units repeated, then a pool and
an fc) into a temporary folder and runs, each in its own process:

    mbcalc table SPEC --format json --output FILE
    mbcalc table SPEC --output FILE              (the Rich table, as plain text)
    mbcalc roofline SPEC --format json --output FILE

printing, measured in this one run, each command's wall time, CPU time and peak memory (the
process's maximum resident set), the time per op, and the ratio to the next smaller spec (10
when the command is linear in the number of ops). Targets at 100,000 ops: json <= 1.5 s and
<= 250 MiB, the Rich table <= 5 s.

    python bench/scale.py [--sizes 1000,10000,100000] [--runs N] [--against DIR]
                          [--commands NAMES] [--timeout SECONDS] [--profile]

`--runs N` runs each command N times and prints the median wall and CPU time (and the least
wall time). `--against DIR` times another checkout of mbcalc (a folder holding its `mbcalc`
package, e.g. from `git worktree add`) in the same run, its runs alternating with this one's,
and prints the ratio of the two medians. `--commands` picks commands by name, e.g.
`--commands "table json"`.

`--profile` adds, for the largest spec, the CPU time of each stage in one process (with the
garbage collector off, as the command line runs): where the time of the commands goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

COMMANDS = {
    "table json": ["table", "{spec}", "--format", "json", "--output", "{out}"],
    "table rich": ["table", "{spec}", "--output", "{out}"],
    "roofline json": ["roofline", "{spec}", "--format", "json", "--output", "{out}"],
}
TARGETS = {"table json": (1.5, 250), "table rich": (5.0, None)}
"""Targets at 100,000 ops: seconds and MiB."""

# Runs one command in this process, then reports its CPU seconds and peak memory (KiB on Linux).
PROBE = (
    "import resource, sys\n"
    "from mbcalc.cli.app import main\n"
    "sys.argv = ['mbcalc', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss, file=sys.stderr)\n"
)


# Times each stage of the three commands in this process: CPU seconds per stage, one a line.
STAGES = """\
import gc, sys, time
from mbcalc.cli.deliver import render_plain
from mbcalc.core.graph import build_graph
from mbcalc.core.plan import make_plan
from mbcalc.core.profiles import PROFILES, count
from mbcalc.core.report import analyze
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.roofline import DEFAULT_DEVICE, resolve_device
from mbcalc.spec.zoo import resolve_spec
from mbcalc.views.export import to_json
from mbcalc.views.render import report_view
gc.disable()
def stage(name, make):
    start = time.process_time()
    result = make()
    print(name, time.process_time() - start)
    return result
spec = stage("read spec", lambda: resolve_spec(sys.argv[1]))
plan = stage("plan", lambda: make_plan(spec))
graph = stage("shapes and ops", lambda: build_graph(spec, None, plan))
report = stage("costs", lambda: analyze(graph))
counted = count(report, PROFILES["paper"])
stage("json text", lambda: to_json(report, None, counted))
view = stage("table view", lambda: report_view(report, None, counted))
stage("table text", lambda: render_plain(view))
device = resolve_device(DEFAULT_DEVICE)
deployment = stage("memory and roofline", lambda: deploy(report, None, 1, False, device, False))
stage("roofline json text", lambda: to_json(report, deployment, counted))
"""


# A checkout run from source compiles it on every run when bytecode may not be written: the runs
# may write it, as installed packages have theirs (as bench/startup.py runs).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mib: float


def summary(runs: list[Run]) -> Run:
    """The median wall and CPU time of `runs` and their largest peak memory."""
    return Run(
        statistics.median(run.wall for run in runs),
        statistics.median(run.cpu for run in runs),
        max(run.peak_mib for run in runs),
    )


def write_spec(folder: Path, ops: int) -> Path:
    """A spec of `ops` ops: (ops - 2) / 2 separable units (depthwise + pointwise), pool, fc."""
    path = folder / f"ops-{ops}.yaml"
    path.write_text(
        f"name: scale {ops}\ninput: {{size: 8, channels: 8}}\nlayers:\n"
        f"  - separable: {{out: 8, repeat: {(ops - 2) // 2}}}\n"
        "  - pool: {global: true}\n  - fc: {out: 10}\n",
        encoding="utf-8",
    )
    return path


def measure(arguments: list[str], timeout: float, source: str | None = None) -> Run | None:
    """One command in a fresh process, with mbcalc imported from the folder `source` if given;
    None when it takes longer than `timeout`."""
    env = ENV if source is None else {**ENV, "PYTHONPATH": source}
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - start
    cpu, peak_kib = result.stderr.split()[-2:]
    return Run(wall, float(cpu), int(peak_kib) / 1024)


def profile(spec: Path, ops: int, timeout: float) -> None:
    """Each stage's CPU time for `spec`, measured in one fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", STAGES, str(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        env=ENV,
    )
    print(f"\nstages at {ops} ops {'cpu s':>14} {'us/op':>7}")
    for line in result.stdout.splitlines():
        name, _, seconds = line.rpartition(" ")
        print(f"{name:<24} {float(seconds):8.2f} {float(seconds) / ops * 1e6:7.1f}")


def measure_runs(
    arguments: list[str], options: argparse.Namespace
) -> tuple[list[Run], list[Run]] | None:
    """`options.runs` runs of one command, alternating with as many of the `--against` checkout
    if given (its list is then not empty), after one untimed run of each when there are several;
    None when a run takes longer than the timeout."""
    ours: list[Run] = []
    theirs: list[Run] = []
    checkouts = [(None, ours)] + ([(options.against, theirs)] if options.against else [])
    warm_up = 1 if options.runs > 1 else 0
    for number in range(warm_up + options.runs):
        for source, runs in checkouts:
            run = measure(arguments, options.timeout, source)
            if run is None:
                return None
            if number >= warm_up:
                runs.append(run)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="op counts, comma-separated")
    parser.add_argument("--runs", type=int, default=1, help="runs of each command (median)")
    parser.add_argument("--against", metavar="DIR", help="another checkout, timed alternately")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="names, comma-separated")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument("--profile", action="store_true", help="add CPU time per stage")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    names = [name.strip() for name in options.commands.split(",")]
    if unknown := set(names) - set(COMMANDS):
        parser.error(f"unknown commands {sorted(unknown)} (known: {', '.join(COMMANDS)})")

    print(f"{options.runs} run(s) of each command; times are medians, 'least' the least wall time")
    print(f"{'command':<14} {'ops':>7} {'wall s':>8} {'least':>7} {'cpu s':>8} {'MiB':>7} "
          f"{'us/op':>7} {'ratio':>6}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        specs = {size: write_spec(Path(folder), size) for size in sizes}
        for name in names:
            previous: Run | None = None
            for size in sizes:
                out = str(Path(folder) / "report.out")
                arguments = [part.format(spec=specs[size], out=out) for part in COMMANDS[name]]
                measured = measure_runs(arguments, options)
                if measured is None:
                    print(f"{name:<14} {size:>7} over {options.timeout:.0f} s")
                    previous = None
                    continue
                runs, against = measured
                run = summary(runs)
                ratio = f"{run.wall / previous.wall:6.1f}" if previous else "     -"
                least = min(each.wall for each in runs)
                print(
                    f"{name:<14} {size:>7} {run.wall:8.2f} {least:7.2f} {run.cpu:8.2f} "
                    f"{run.peak_mib:7.0f} {run.wall / size * 1e6:7.0f} {ratio}"
                )
                previous = run
                if against:
                    other = summary(against)
                    least = min(each.wall for each in against)
                    print(
                        f"{'  --against':<14} {size:>7} {other.wall:8.2f} {least:7.2f} "
                        f"{other.cpu:8.2f} {other.peak_mib:7.0f} "
                        f"{other.wall / size * 1e6:7.0f}   this / against: "
                        f"{run.wall / other.wall:.3f}"
                    )
                seconds, mebibytes = TARGETS.get(name, (None, None))
                if size == 100_000 and seconds is not None:
                    verdict = "ok" if run.wall <= seconds else "OVER"
                    if mebibytes is not None and run.peak_mib > mebibytes:
                        verdict = "OVER"
                    limit = "" if mebibytes is None else f" and <= {mebibytes} MiB"
                    print(f"{'':<14} target <= {seconds} s{limit}: {verdict}")
        if options.profile:
            profile(specs[max(sizes)], max(sizes), options.timeout)


if __name__ == "__main__":
    main()
