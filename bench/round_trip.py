"""The import's round trip over the whole zoo: every shipped spec built with `mbcalc.torch.build`,
exported to ONNX by torch's exporter (batch norms kept) and imported, or traced with
torch.export and imported; the imported spec counted again.

For each spec and setting (alpha 1 and alpha 0.5, at the spec's own input size) it prints
whether mult-adds, params, BN params (of the ops that run in eval mode) and the units (separable,
mbconv, se and the merges) came back exact, the seconds spent building and exporting, and the
seconds the import took; then the totals. The tests run a member of each family
(tests/ingest/test_round_trip.py); this runs them all, which takes a quarter of an hour or more.

    python bench/round_trip.py [--paths onnx,torch] [--specs NAME,...] [--settings 1,0.5]

Needs torch and onnx (`pip install -e '.[test,torch]'`). Run from the repository's root.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mbcalc.core.settings import Settings
from mbcalc.spec.zoo import shipped_names
from tests.helpers.zoo_cost import at_fitting_size
from tests.ingest.round_trip import Trip, through_onnx, through_torch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", default="onnx,torch")
    parser.add_argument("--specs", default=",".join(shipped_names()))
    parser.add_argument("--settings", default="1,0.5", help="alphas, at the spec's own size")
    options = parser.parse_args()
    paths = options.paths.split(",")
    alphas = [Fraction(alpha) for alpha in options.settings.split(",")]
    failures: list[str] = []
    count = 0
    started = time.perf_counter()
    print(
        f"{'spec':<22} {'alpha':>5} {'path':<6} {'exact':<6} {'build+export s':>14} {'import s':>9}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name in options.specs.split(","):
            for alpha in alphas:
                setting = at_fitting_size(name, Settings(alpha=alpha))
                for path in paths:
                    trip = _trip(name, setting, path, Path(folder))
                    count += 1
                    if isinstance(trip, str):
                        failures.append(f"{name} alpha {alpha} {path}: {trip}")
                        print(f"{name:<22} {alpha!s:>5} {path:<6} error  {trip}")
                        continue
                    if not trip.exact:
                        failures.append(f"{name} alpha {alpha} {path}: {trip}")
                    print(
                        f"{name:<22} {alpha!s:>5} {path:<6} {'yes' if trip.exact else 'NO':<6} "
                        f"{trip.export_seconds:>14.2f} {trip.import_seconds:>9.3f}",
                        flush=True,
                    )
    elapsed = time.perf_counter() - started
    print(f"\n{count - len(failures)} of {count} round trips exact, in {elapsed:.0f} s")
    for failure in failures:
        print("  not exact:", failure)
    return 1 if failures else 0


def _trip(name: str, setting: Settings, path: str, folder: Path) -> Trip | str:
    try:
        if path == "onnx":
            return through_onnx(name, setting, folder)
        return through_torch(name, setting)
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"


if __name__ == "__main__":
    sys.exit(main())
