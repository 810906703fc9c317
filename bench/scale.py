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

    python bench/scale.py [--sizes 1000,10000,100000] [--timeout SECONDS] [--profile]

`--profile` adds, for the largest spec, the CPU time of each stage in one process (with the
garbage collector off, as the command line runs): where the time of the commands goes.
"""

from __future__ import annotations

import argparse
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


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mib: float


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


def measure(arguments: list[str], timeout: float) -> Run | None:
    """One command in a fresh process; None when it takes longer than `timeout`."""
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
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
    )
    print(f"\nstages at {ops} ops {'cpu s':>14} {'us/op':>7}")
    for line in result.stdout.splitlines():
        name, _, seconds = line.rpartition(" ")
        print(f"{name:<24} {float(seconds):8.2f} {float(seconds) / ops * 1e6:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="op counts, comma-separated")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument("--profile", action="store_true", help="add CPU time per stage")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    print(f"{'command':<14} {'ops':>7} {'wall s':>8} {'cpu s':>8} {'MiB':>7} "
          f"{'us/op':>7} {'ratio':>6}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        specs = {size: write_spec(Path(folder), size) for size in sizes}
        for name, template in COMMANDS.items():
            previous: Run | None = None
            for size in sizes:
                out = str(Path(folder) / "report.out")
                arguments = [part.format(spec=specs[size], out=out) for part in template]
                run = measure(arguments, options.timeout)
                if run is None:
                    print(f"{name:<14} {size:>7} over {options.timeout:.0f} s")
                    previous = None
                    continue
                ratio = f"{run.wall / previous.wall:6.1f}" if previous else "     -"
                print(
                    f"{name:<14} {size:>7} {run.wall:8.2f} {run.cpu:8.2f} {run.peak_mib:7.0f} "
                    f"{run.wall / size * 1e6:7.0f} {ratio}"
                )
                previous = run
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
