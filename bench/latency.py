"""How well the calibrated estimate predicts measured latency, against the roofline and mult-adds.

Calibrates this machine from micro networks only (`mbcalc calibrate`'s grid; or reads a device
file it wrote, --device), then measures the end-to-end median latency of every shipped spec at
four settings (alpha 1 and 0.5, each at the spec's resolution and at 160/224 of it, rounded to
a multiple of 32), built as `mbcalc.torch` builds them and run as `mbcalc bench` runs them
(batch 1, --threads threads), each spec in a process of its own as each `mbcalc bench` is, so
that no network's time depends on the ones measured before it. It prints, side by side, the
mult-adds, the roofline bound (the device file's measured GEMM peak and copy bandwidth), the
calibrated estimate and the measured median, and then, all measured in this one run:

- the median of estimate / measured, and the share of cases within +-15% (target: >= 80%);
- the Spearman rank correlation of the measured latency with the estimate (target: >= 0.95),
  with the roofline bound and with the mult-adds;
- the share within +-10% of the roofline bound after rescaling it by one global constant.

    python bench/latency.py [--runtime torch|onnxruntime] [--threads N] [--device FILE]
                            [--specs a,b,...] [--max-mult-adds N] [--quick] [--save FILE]

--max-mult-adds leaves out the settings that cost more (the zoo's largest networks take seconds
a run, and minutes to build and time at four settings); the count of cases left out is printed.

Timing needs a quiet machine: nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from mbcalc.core.graph import Graph, build_graph
from mbcalc.core.report import analyze
from mbcalc.core.settings import request_of
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.roofline import Device, resolve_device
from mbcalc.errors import MbcalcError
from mbcalc.kinds import Runtime, Target
from mbcalc.pytorch.network import Network
from mbcalc.pytorch.runtimes import Conditions, prepare
from mbcalc.pytorch.timing import Budget, measure
from mbcalc.spec.zoo import load_shipped, shipped_names

TIMING = Budget(warmup=3, min_runs=5, min_seconds=0.5)
SLOW = Budget(warmup=0, min_runs=3, min_seconds=0.0)
"""For a network whose first run took more than SLOW_AFTER seconds (that run is its warm-up)."""
SLOW_AFTER = 0.25


Measured = dict[str, float | str]
"""Each setting's measured median in seconds, or why it was not measured."""


@dataclass(frozen=True)
class Case:
    label: str
    mult_adds: int
    bound: float
    estimate: float
    measured: float


def settings_of(name: str) -> list[tuple[Fraction, int]]:
    """alpha 1 and 1/2, each at the spec's resolution and at 160/224 of it (a multiple of 32)."""
    full = load_shipped(name).input_size[0]
    small = max(32, round(full * 160 / 224 / 32) * 32)
    return [(Fraction(a), r) for a in (1, Fraction(1, 2)) for r in (full, small)]


def calibrated_device(args: argparse.Namespace, conditions: Conditions) -> Device:
    if args.device:
        return resolve_device(args.device)
    path = Path(tempfile.mkdtemp()) / "device.yaml"
    command = [sys.executable, "-m", "mbcalc", "calibrate", "-o", str(path)]
    command += ["--runtime", str(conditions.runtime), "--threads", str(conditions.threads)]
    subprocess.run(command + (["--quick"] if args.quick else []), check=True)
    print(f"device file: {path}")
    return resolve_device(str(path))


def graph_of(name: str, alpha: Fraction, res: int) -> Graph:
    spec = load_shipped(name)
    return build_graph(spec, request_of(alpha, res, None, None).settings(spec.defaults))


def mult_adds_of(graph: Graph) -> int:
    return analyze(graph).total.cost.mult_adds


def measured_settings(name: str, conditions: Conditions, max_mult_adds: float | None) -> Measured:
    """The measured median of each setting of `name` (the worker's part, in a process of its
    own): {"alpha res": seconds, or the reason it was not measured}."""
    found: Measured = {}
    for alpha, res in settings_of(name):
        key = f"{alpha} {res}"
        try:
            graph = graph_of(name, alpha, res)
            if max_mult_adds is not None and mult_adds_of(graph) > max_mult_adds:
                found[key] = "left out"
                continue
            prepared = prepare(Network(graph), conditions)
            first = measure(prepared.run, Budget(warmup=0, min_runs=1, min_seconds=0.0)).median
            found[key] = measure(prepared.run, SLOW if first > SLOW_AFTER else TIMING).median
        except (MbcalcError, MemoryError, RuntimeError) as error:
            found[key] = f"skipped ({str(error).splitlines()[0]})"
    return found


def measure_spec(name: str, args: argparse.Namespace) -> Measured:
    """`measured_settings` of `name`, run by this script in a fresh process."""
    command = [sys.executable, __file__, "--worker", name, "--runtime", args.runtime]
    command += ["--threads", str(args.threads)]
    if args.max_mult_adds is not None:
        command += ["--max-mult-adds", str(args.max_mult_adds)]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        lines = done.stderr.strip().splitlines() or ["no output"]
        return {f"{a} {r}": f"skipped ({lines[-1]})" for a, r in settings_of(name)}
    measured: Measured = json.loads(done.stdout.strip().splitlines()[-1])  # the worker's last line
    return measured


def case_of(name: str, alpha: Fraction, res: int, measured: float, device: Device) -> Case:
    """What mbcalc counts and estimates of one setting, beside its measured median."""
    report = analyze(graph_of(name, alpha, res))
    roofline = deploy(report, batch=1, device=device).roofline
    assert roofline is not None
    label = f"{name} {float(alpha):g}/{res}"
    return Case(
        label, report.total.cost.mult_adds, float(roofline.seconds), roofline.latency, measured
    )


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(values: list[float]) -> np.ndarray:
        order = np.argsort(values, kind="stable")
        result = np.empty(len(values))
        result[order] = np.arange(len(values))
        for value in set(values):  # ties share their mean rank
            tied = np.array(values) == value
            result[tied] = result[tied].mean()
        return result

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def summarize(cases: list[Case]) -> None:
    measured = [c.measured for c in cases]
    ratios = [c.estimate / c.measured for c in cases]
    within = sum(abs(r - 1) <= 0.15 for r in ratios) / len(cases)
    bound_ratios = [c.bound / c.measured for c in cases]
    scale = statistics.median(bound_ratios)
    rescaled = sum(abs(r / scale - 1) <= 0.10 for r in bound_ratios) / len(cases)
    print()
    print(f"cases: {len(cases)}")
    print(f"calibrated estimate / measured: median {statistics.median(ratios):.3f}; "
          f"within +-15%: {within:.1%} (target >= 80%)")  # fmt: skip
    print(f"roofline bound / measured: median {scale:.3f}; within +-10% after rescaling by one "
          f"constant: {rescaled:.1%}")  # fmt: skip
    estimate_rho = spearman([c.estimate for c in cases], measured)
    print(f"Spearman with measured: calibrated estimate {estimate_rho:.3f} (target >= 0.95), "
          f"roofline bound {spearman([c.bound for c in cases], measured):.3f}, "
          f"mult-adds {spearman([float(c.mult_adds) for c in cases], measured):.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runtime", choices=[str(r) for r in Runtime], default="torch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", help="a device file from `mbcalc calibrate` (else calibrate)")
    parser.add_argument("--specs", help="comma-separated shipped specs (default: all)")
    parser.add_argument("--max-mult-adds", type=float, help="leave out costlier settings")
    parser.add_argument("--quick", action="store_true", help="calibrate on the quick grid")
    parser.add_argument("--save", help="write the cases as JSON to this file")
    parser.add_argument("--worker", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    conditions = Conditions(Runtime(args.runtime), args.threads, 1, Target.CPU)
    if args.worker:
        print(json.dumps(measured_settings(args.worker, conditions, args.max_mult_adds)))
        return
    device = calibrated_device(args, conditions)
    names = args.specs.split(",") if args.specs else shipped_names()
    cases: list[Case] = []
    left_out = 0
    print(f"{'spec and setting':40} {'mult-adds':>15} {'bound':>10} {'estimate':>10} "
          f"{'measured':>10} {'est/meas':>8}")  # fmt: skip
    for name in names:
        for setting, measured in measure_spec(name, args).items():
            if measured == "left out":
                left_out += 1
                continue
            if isinstance(measured, str):
                print(f"{name} {setting}: {measured}")
                continue
            alpha, res = setting.split()
            case = case_of(name, Fraction(alpha), int(res), measured, device)
            cases.append(case)
            print(f"{case.label:40} {case.mult_adds:>15,} {case.bound * 1e3:>8.2f}ms "
                  f"{case.estimate * 1e3:>8.2f}ms {case.measured * 1e3:>8.2f}ms "
                  f"{case.estimate / case.measured:>8.2f}", flush=True)  # fmt: skip
    if args.save:
        Path(args.save).write_text(json.dumps([c.__dict__ for c in cases], indent=1))
    if not cases:
        sys.exit("no case measured")
    if left_out:
        print(f"\n{left_out} settings left out: more than {args.max_mult_adds:,.0f} mult-adds")
    summarize(cases)


if __name__ == "__main__":
    main()
