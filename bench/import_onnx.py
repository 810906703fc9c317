"""How long reading an ONNX file takes beyond reading its bytes.

Builds `mbcalc.torch.build(SPEC, alpha=ALPHA, res=RES)` (ResNet-50 at alpha 0.25 and 64 x 64
by default: about 120 ops, 1.5 M weights), exports it once with `torch.onnx.export(...,
dynamo=False)` into a temporary folder, then, over several runs in this one process, times:

- reading the file's bytes alone (`Path.read_bytes`);
- `read_onnx` (the wire walk, shape inference, constant folding, the op table);
- the whole import: the read, then the recognizer's spec text (`mbcalc.ingest.recognize`).

and prints each median, and the time beyond the bytes. Target: the import takes less than
1 s beyond reading the file.

    python bench/import_onnx.py [--spec NAME] [--alpha A] [--res R] [--runs N]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from mbcalc.ingest.onnx_file import read_onnx

TARGET_SECONDS = 1.0


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """The median wall time of `runs` calls of `work`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def export(spec: str, alpha: float, res: int, folder: Path) -> Path:
    """The spec built by mbcalc's PyTorch builder, exported as ONNX."""
    torch = importlib.import_module("torch")
    module = importlib.import_module("mbcalc.torch").build(spec, alpha=alpha, res=res).eval()
    path = folder / f"{spec}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 3, res, res),), str(path), dynamo=False)
    return path


def whole_import(path: Path) -> Callable[[], object] | None:
    """The read and the recognizer together (the spec's text), when mbcalc has the recognizer."""
    if importlib.util.find_spec("mbcalc.ingest.recognize") is None:
        return None
    spec_text = importlib.import_module("mbcalc.ingest.recognize").spec_text
    return lambda: spec_text(read_onnx(path, source=path.name), unknown_free=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="resnet50")
    parser.add_argument("--alpha", type=float, default=0.25)
    parser.add_argument("--res", type=int, default=64)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = export(args.spec, args.alpha, args.res, Path(folder))
        network = read_onnx(path, source=path.name)
        print(f"{path.name}: {path.stat().st_size:,} bytes, {len(network.nodes)} nodes read")
        read_bytes = median_seconds(path.read_bytes, args.runs)
        read = median_seconds(lambda: read_onnx(path, source=path.name), args.runs)
        print(f"read the bytes        {read_bytes * 1000:9.1f} ms (median of {args.runs})")
        print(f"read_onnx             {read * 1000:9.1f} ms  ({read / read_bytes:,.2f}x the bytes)")
        total = read
        imported = whole_import(path)
        if imported is None:
            print("whole import          (mbcalc.ingest.recognize not there yet)")
        else:
            total = median_seconds(imported, args.runs)
            print(f"whole import          {total * 1000:9.1f} ms")
        beyond = total - read_bytes
        verdict = "met" if beyond < TARGET_SECONDS else "MISSED"
        target = f"target < {TARGET_SECONDS:.0f} s: {verdict}"
        print(f"beyond the bytes      {beyond * 1000:9.1f} ms  ({target})")


if __name__ == "__main__":
    main()
