"""`mbcalc import` and ONNX files as SPEC arguments, end to end.

Hand-written `nn.Module`s (tests/ingest/models.py) are imported through both paths, an ONNX
export and torch.export, and the imported spec is counted against the module itself: its
parameters (`parameters()`, batch norms apart), and its mult-adds from forward hooks on every
`Conv2d` and `Linear` (output elements x input channels per group x kernel area; in x out).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbcalc.core.graph import build_graph
from mbcalc.core.report import analyze
from mbcalc.core.settings import Settings
from mbcalc.errors import ModelImportError
from mbcalc.ingest.recognize import Imported
from mbcalc.ingest.sources import import_model
from mbcalc.kinds import LayerType
from mbcalc.spec.model import walk_layers
from mbcalc.spec.parser import parse_spec
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, one_line_error
from tests.ingest.round_trip import eval_totals

pytest.importorskip("torch")
import torch
from torch import nn

from tests.ingest import models

SHAPE = (3, 32, 32)


def module_counts(module: nn.Module, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Mult-adds (conv and linear), params and BN params, counted on the module itself."""
    total = 0

    def hook(layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            per_output = (
                layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
            )
            total += output.numel() * per_output
        else:
            assert isinstance(layer, nn.Linear)
            total += output.numel() * layer.in_features

    handles = [
        part.register_forward_hook(hook)
        for part in module.modules()
        if isinstance(part, nn.Conv2d | nn.Linear)
    ]
    with torch.no_grad():
        module.eval()(torch.zeros(1, *shape))
    for handle in handles:
        handle.remove()
    norms = [part for part in module.modules() if isinstance(part, nn.BatchNorm2d)]
    bn = sum(p.numel() for part in norms for p in part.parameters())
    return total, sum(p.numel() for p in module.parameters()) - bn, bn


def _export(module: nn.Module, path: Path, shape: tuple[int, int, int] = SHAPE) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(), (torch.zeros(1, *shape),), str(path), dynamo=False,
            do_constant_folding=False,
        )  # fmt: skip
    return path


def _counts(text: str) -> tuple[int, int, int]:
    return eval_totals(analyze(build_graph(parse_spec(text, source="imported"), Settings())))


def _types(text: str) -> set[LayerType]:
    return {layer.type for layer in walk_layers(parse_spec(text, source="imported").layers)}


MODULES: dict[str, tuple[Callable[[], nn.Module], set[LayerType]]] = {
    "residual": (models.SmallResNet, {LayerType.BLOCK, LayerType.PARALLEL}),
    "squeeze_excite": (models.SENet, {LayerType.SE}),
    "branches": (models.InceptionLike, {LayerType.PARALLEL}),
    "inverted_residual": (models.MobileNetV2Like, {LayerType.MBCONV}),
    "separable": (models.SeparableChain, {LayerType.SEPARABLE}),
    "dense": (models.DenseNetLike, {LayerType.PARALLEL, LayerType.NORM}),
}


@pytest.mark.parametrize("path", ["onnx", "torch"])
@pytest.mark.parametrize("name", MODULES)
def test_a_hand_written_module_imports_to_its_own_counts_and_units(
    name: str, path: str, tmp_path: Path
) -> None:
    factory, units = MODULES[name]
    module = factory()
    if path == "onnx":
        pytest.importorskip("onnx")
        text = import_model(str(_export(module, tmp_path / f"{name}.onnx"))).text
    else:
        text = import_model(f"tests/ingest/models.py:{factory.__name__}", input=SHAPE).text
    assert _counts(text) == module_counts(module, SHAPE)
    assert units <= _types(text)


REFUSED = {
    # model: (words of the message, what `--unknown free` still refuses)
    "Upsampling": (("up",), "changes the tensor's shape"),  # the upsampling's module path
    "TinyViT": (
        ("attention (a product of two activations)", "tokens, attention and readout"),
        "attention",
    ),
}


@pytest.mark.parametrize("path", ["onnx", "torch"])
@pytest.mark.parametrize("model", REFUSED)
def test_an_op_mbcalc_lacks_stops_the_import_naming_it(
    model: str, path: str, tmp_path: Path
) -> None:
    words, still_refused = REFUSED[model]
    if path == "onnx":
        pytest.importorskip("onnx")
        source = str(_export(getattr(models, model)(), tmp_path / f"{model}.onnx"))
    else:
        source = f"tests/ingest/models.py:{model}"
    with pytest.raises(ModelImportError) as caught:
        import_model(source, input=SHAPE)
    message = str(caught.value)
    assert message.startswith(f"{source}: node '")
    assert all(word in message for word in words), message
    with pytest.raises(ModelImportError, match=still_refused):
        import_model(source, input=SHAPE, unknown="free")


class Clamped(nn.Module):
    """A conv, a clamp to [-1, 1] (no activation of the spec language), a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.last = nn.Conv2d(8, 4, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.last(torch.clamp(self.first(x), -1.0, 1.0))
        return result


def test_an_op_that_keeps_its_shape_imports_as_free_and_is_listed(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    source = str(_export(Clamped(), tmp_path / "clamped.onnx"))
    with pytest.raises(ModelImportError, match="--unknown free"):
        import_model(source)
    imported = import_model(source, unknown="free")
    assert len(imported.free) == 1
    assert imported.free[0] in imported.text
    assert _counts(imported.text) == module_counts(Clamped(), SHAPE)


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def resnet_onnx(tmp_path: Path) -> Path:
    pytest.importorskip("onnx")
    return _export(models.SmallResNet(), tmp_path / "resnet.onnx")


def test_import_writes_a_spec_every_command_reads(resnet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "resnet.yaml"
    result = invoke_mbcalc("import", str(resnet_onnx), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Imported by mbcalc from {resnet_onnx}")
    table = invoke_mbcalc("table", str(out), "--format", "json")
    assert table.exit_code == 0, table.output
    direct = invoke_mbcalc("table", str(resnet_onnx), "--format", "json")
    assert direct.output == table.output.replace(str(out), str(resnet_onnx))


def test_every_command_takes_an_onnx_file(resnet_onnx: Path) -> None:
    for args in (
        ["table", str(resnet_onnx), "--alpha", "0.5"],
        ["compare", str(resnet_onnx), "mobilenet_v2"],
        ["sweep", str(resnet_onnx), "--alpha", "0.5,1", "--res", "32,64"],
        ["show", str(resnet_onnx)],
        ["roofline", str(resnet_onnx)],
    ):
        result = invoke_mbcalc(*args)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize(
    "content",
    [b"", b"name: not onnx\nlayers: []\n", b"\x89PNG\r\n\x1a\n" + bytes(64), b"\x08\x07\x12"],
    ids=["empty", "yaml", "png", "truncated"],
)
def test_a_bad_file_is_one_line_and_writes_nothing(content: bytes, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    out = tmp_path / "out.yaml"
    result = invoke_mbcalc("import", str(bad), "-o", str(out))
    assert_clean_failure(result, 1)
    assert one_line_error(result).startswith(f"{bad}: ")
    assert not out.exists()
    assert invoke_mbcalc("table", str(bad)).exit_code == 1


def test_a_missing_file_and_a_bad_input_option(tmp_path: Path) -> None:
    missing = invoke_mbcalc("import", str(tmp_path / "nothing.onnx"))
    assert missing.exit_code == 1
    assert "nothing.onnx" in missing.stderr
    usage = invoke_mbcalc("import", "tests/ingest/models.py:SmallResNet", "--input", "224")
    assert usage.exit_code == 2
    assert "CxHxW" in usage.stderr
    neither = invoke_mbcalc("import", "resnet")
    assert neither.exit_code == 1
    assert "neither an ONNX file" in neither.stderr


def test_the_free_ops_warning_goes_to_stderr(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    source = _export(Clamped(), tmp_path / "clamped.onnx")
    result = invoke_mbcalc("import", str(source), "--unknown", "free")
    assert result.exit_code == 0
    assert "mbcalc: warning: imported 1 op(s) as free" in result.stderr
    assert result.stdout.startswith("# Imported by mbcalc")


def test_table_never_imports_torch_or_onnx() -> None:
    code = (
        "import sys\n"
        "from mbcalc.cli import main\n"
        "sys.argv = ['mbcalc', 'table', 'mobilenet_v1', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({'torch', 'onnx'} & set(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"


def test_without_onnx_an_onnx_file_asks_for_the_extra(
    resnet_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    result = invoke_mbcalc("table", str(resnet_onnx))
    assert_clean_failure(result, 1, "needs the onnx package", "pip install 'mbcalc[onnx]'")


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pytest.importorskip("onnx")
    path = tmp_path_factory.mktemp("small") / "small.onnx"
    return _export(models.SeparableChain(), path).read_bytes()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_damaged_file_is_refused_in_one_line_or_read(
    small_onnx: bytes, tmp_path: Path, data: st.DataObject
) -> None:
    """Bytes cut, flipped or overwritten anywhere: the import reads the file or refuses it with
    a ModelImportError, never another exception."""
    raw = bytearray(small_onnx)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["cut", "flip", "byte"]))
        if action == "cut":
            raw = raw[:at]
            if not raw:
                break
        elif action == "flip":
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        else:
            raw[at] = data.draw(st.integers(0, 255))
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(bytes(raw))
    outcome: Imported | ModelImportError
    try:
        outcome = import_model(str(damaged))
    except ModelImportError as error:
        outcome = error
    assert isinstance(outcome, Imported) or "\n" not in str(outcome)
