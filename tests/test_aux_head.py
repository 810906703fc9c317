"""An auxiliary head (`aux`): its params count, its mult-adds run in training only.

A small network whose head branches off after the stem is counted against the textbook
formulas and against the same network without the head; Inception v3's AuxLogits against
torchvision's InceptionAux (torchvision/models/inception.py) and its published count.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from mbcalc import Report, Settings, analyze, build_graph, parse_spec
from mbcalc.core.profiles import PROFILES, ParamsRule, count
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.deploy.roofline import resolve_device, roofline
from mbcalc.errors import SpecError
from mbcalc.grid.sweep import sweep
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import invoke_mbcalc, one_line_error
from tests.helpers.torchvision_figures import PUBLISHED

HEAD = """
  - aux:
      name: head
      layers:
        - pool: {name: pool, kind: avg, kernel: 4, stride: 4}
        - conv: {name: conv, out: 4, kernel: 1}
        - fc: {name: fc, out: 10}
"""


def network(head: str = HEAD, size: int = 16) -> str:
    """stem conv 3 -> 8 (3x3, stride 2), the head, body conv 8 -> 16 (3x3), pool, fc 10."""
    return (
        f"name: with a head\ninput: {{size: {size}, channels: 3}}\nbatchnorm: true\nlayers:\n"
        "  - conv: {name: stem, out: 8, kernel: 3, stride: 2, padding: 1}\n"
        + (head.strip("\n") + "\n" if head else "")
        + "  - conv: {name: body, out: 16, kernel: 3, padding: 1}\n"
        "  - pool: {name: avgpool, global: true}\n"
        "  - fc: {name: fc, out: 10}\n"
    )


def report_of(text: str, settings: Settings | None = None) -> Report:
    return analyze(build_graph(parse_spec(text), settings))


def conv(h_out: int, w_out: int, k: int, c_in: int, c_out: int) -> tuple[int, int, int]:
    """(mult-adds, params, BN params) of a bias-free conv followed by a batch norm."""
    return h_out * w_out * k * k * c_in * c_out, k * k * c_in * c_out, 2 * c_out


def fc(inputs: int, outputs: int) -> tuple[int, int, int]:
    return inputs * outputs, inputs * outputs + outputs, 0


def counts(size: int = 16) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The main path's and the head's (mult-adds, params, BN params) by the formulas."""
    side = (size + 2 - 3) // 2 + 1  # the stem: stride 2, padding 1
    pooled = (side - 4) // 4 + 1
    main = [conv(side, side, 3, 3, 8), conv(side, side, 3, 8, 16), fc(16, 10)]
    head = [conv(pooled, pooled, 1, 8, 4), fc(pooled * pooled * 4, 10)]
    return summed(main), summed(head)


def summed(parts: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    mult_adds, params, bn_params = (sum(counts) for counts in zip(*parts, strict=True))
    return mult_adds, params, bn_params


def test_the_heads_params_count_and_its_mult_adds_are_kept_apart() -> None:
    (mult_adds, params, bn_params), (head_mult_adds, head_params, head_bn) = counts()
    total = report_of(network()).total.cost
    assert total.mult_adds == mult_adds
    assert total.params == params + head_params
    assert total.bn_params == bn_params + head_bn
    assert total.aux_mult_adds == head_mult_adds


def test_the_network_goes_on_from_the_tensor_the_head_reads() -> None:
    ops = {op.name: op for op in report_of(network()).graph.ops}
    assert ops["head.pool"].sources == ops["body"].sources == (ops["stem"].index,)
    assert [name for name, op in ops.items() if op.aux] == ["head.pool", "head.conv", "head.fc"]
    assert report_of(network()).graph.output_shape == (1, 1, 10)


def test_rows_add_up_and_the_head_is_apart_in_its_own_rows() -> None:
    report = report_of(network())
    (_, _, _), (head_mult_adds, head_params, head_bn) = counts()
    aux = report.aux_cost()
    assert aux is not None
    assert (aux.mult_adds, aux.aux_mult_adds) == (0, head_mult_adds)
    assert (aux.params, aux.bn_params) == (head_params, head_bn)
    assert report_of(network(head="")).aux_cost() is None


@pytest.mark.parametrize("size", [16, 24, 33])
def test_the_sweep_counts_as_the_table_does(size: int) -> None:
    (mult_adds, params, bn_params), (_, head_params, head_bn) = counts(size)
    grid = sweep(parse_spec(network()), [Fraction(1), Fraction(1, 2)], [size])
    assert grid.mult_adds[0, 0] == mult_adds
    assert grid.params[0, 0] == params + head_params
    assert grid.bn_params[0, 0] == bn_params + head_bn
    half = report_of(network(), Settings(alpha=Fraction(1, 2), res=size)).total.cost
    assert (grid.mult_adds[1, 0], grid.params[1, 0]) == (half.mult_adds, half.params)


def test_the_head_takes_no_activation_memory_and_no_time_but_its_weights_count() -> None:
    with_head, without = report_of(network()), report_of(network(head=""))
    (_, _, _), (_, head_params, head_bn) = counts()
    memory, plain = memory_report(with_head), memory_report(without)
    assert memory.peak.bytes == plain.peak.bytes
    # fp32, batch norms unfolded: scale, shift, running mean and variance per channel
    assert memory.weight_bytes - plain.weight_bytes == 4 * (head_params + 2 * head_bn)
    device = resolve_device("a100-sxm")
    assert roofline(memory, device).seconds == roofline(plain, device).seconds


def test_the_sweeps_deployment_figures_leave_the_head_out_too() -> None:
    device = resolve_device("jetson-nano")
    grid = sweep(parse_spec(network()), [Fraction(1)], [16, 20], dtype=DType.FP16, device=device)
    for column, size in enumerate((16, 20)):
        memory = memory_report(report_of(network(), Settings(res=size)), DType.FP16)
        assert grid.peak_bytes is not None
        assert grid.weight_bytes is not None
        assert grid.peak_bytes[0, column] == memory.peak.bytes
        assert grid.weight_bytes[0, column] == memory.weight_bytes
        plain = memory_report(report_of(network(head=""), Settings(res=size)), DType.FP16)
        assert grid.latency is not None
        assert grid.latency[0, column] == pytest.approx(float(roofline(plain, device).seconds))


@pytest.mark.parametrize("name", PROFILES)
def test_profiles_count_no_operation_of_the_head_and_its_params_but_for_thop(name: str) -> None:
    """The tools count in eval, where the head does not run; thop counts a module's params
    when the module runs (tests/test_profiles_tools.py runs them)."""
    profile = PROFILES[name]
    (_, _, _), (_, head_params, head_bn) = counts()
    with_head = count(report_of(network()), profile)
    without = count(report_of(network(head="")), profile)
    assert with_head.operations == without.operations
    expected = {ParamsRule.PAPER: head_params, ParamsRule.TORCH: head_params + head_bn}
    added = 0 if name == "thop" else expected[profile.params]
    assert with_head.params - without.params == added


@pytest.mark.parametrize("name", ["thop", "fvcore", "ptflops"])
def test_the_sweeps_profile_totals_are_the_tables(name: str) -> None:
    grid = sweep(parse_spec(network()), [Fraction(1), Fraction(3, 4)], [16], profile=PROFILES[name])
    assert grid.counted is not None
    for row, alpha in enumerate((Fraction(1), Fraction(3, 4))):
        counted = count(report_of(network(), Settings(alpha=alpha)), PROFILES[name])
        assert grid.counted.operations[row, 0] == counted.operations
        assert grid.counted.params[row, 0] == counted.params


def test_the_breakdown_puts_the_head_in_a_row_of_its_own() -> None:
    from mbcalc.core.by_type import Family, breakdown

    (_, _, _), (_, head_params, head_bn) = counts()
    rows = {row.category.family: row for row in breakdown(report_of(network()))}
    head = rows[Family.AUX]
    assert (head.ops, head.cost.mult_adds, head.cost.params) == (3, 0, head_params)
    assert head.cost.bn_params == head_bn


# -- errors ----------------------------------------------------------------------------------


def test_a_head_cannot_end_the_network() -> None:
    text = "input: {size: 8, channels: 3}\nlayers:\n  - conv: {out: 4}" + HEAD
    with pytest.raises(SpecError, match="an auxiliary head cannot end the network"):
        report_of(text)


def test_a_head_takes_no_activation() -> None:
    with pytest.raises(SpecError, match="takes no `act`"):
        parse_spec(network(head=HEAD.replace("name: head", "name: head\n      act: relu")))


def test_a_head_that_does_not_fit_a_small_input_says_so_in_one_line() -> None:
    result = invoke_mbcalc("table", "inception_v3", "--res", "224")
    assert result.exit_code == 1
    error = one_line_error(result)
    assert "AuxLogits" in error
    assert "an auxiliary head runs in training" in error


# -- output ----------------------------------------------------------------------------------


@pytest.fixture
def spec_file(tmp_path: pytest.TempPathFactory) -> str:
    path = tmp_path / "head.yaml"  # type: ignore[operator]
    path.write_text(network(), encoding="utf-8")
    return str(path)


def test_json_marks_the_heads_layers_and_totals_it_apart(spec_file: str) -> None:
    (mult_adds, _, _), (head_mult_adds, head_params, head_bn) = counts()
    document = json.loads(invoke_mbcalc("table", spec_file, "--format", "json").stdout)
    layers = {layer["name"]: layer for layer in document["layers"]}
    assert layers["head.conv"]["aux"] is True
    assert layers["head.conv"]["mult_adds"] == 0
    assert layers["head.conv"]["aux_mult_adds"] == 8 * 4 * (16 // 2 // 4) ** 2
    assert "aux" not in layers["body"]
    total = document["total"]
    assert total["mult_adds"] == sum(layer["mult_adds"] for layer in document["layers"])
    assert total["mult_adds"] == mult_adds
    assert (total["aux_mult_adds"], total["aux_params"]) == (head_mult_adds, head_params)
    assert total["aux_bn_params"] == head_bn
    units = {unit["name"]: unit for unit in document["units"]}
    assert units["head.fc"]["aux_mult_adds"] == (16 // 2 // 4) ** 2 * 4 * 10


def test_csv_has_an_aux_mult_adds_column_only_with_a_head(spec_file: str) -> None:
    (_, _, _), (head_mult_adds, _, _) = counts()
    lines = invoke_mbcalc("table", spec_file, "--format", "csv").stdout.splitlines()
    header = lines[0].split(",")
    assert header[-1] == "aux_mult_adds"
    column = [int(line.split(",")[-1]) for line in lines[1:]]
    assert sum(column) == head_mult_adds
    plain = invoke_mbcalc("table", "mobilenet_v1", "--format", "csv").stdout.splitlines()[0]
    assert "aux" not in plain


def test_table_and_markdown_show_the_heads_mult_adds_in_parentheses(spec_file: str) -> None:
    (_, _, _), (head_mult_adds, head_params, _) = counts()
    pooled = (16 // 2 // 4) ** 2
    table = invoke_mbcalc("table", spec_file, "--width", "200").stdout
    assert f"({pooled * 4 * 10})" in table  # the head's fc: 4 x 10 per pixel, in parentheses
    assert f"aux head       {head_mult_adds:,} mult-adds in training only" in table
    markdown = invoke_mbcalc("table", spec_file, "--format", "markdown").stdout
    assert f"| ({pooled * 8 * 4:,}) |  |" in markdown  # the head's conv, no share
    assert f"Auxiliary head: {head_mult_adds:,} mult-adds in training only" in markdown
    assert f"· {head_params:,} params" in markdown


# -- Inception v3 ----------------------------------------------------------------------------


def test_inception_v3s_auxlogits_is_torchvisions_inceptionaux() -> None:
    """AuxLogits on Mixed_6e's 17x17x768: avg pool 5/3 -> 5x5, conv0 1x1 768 -> 128, conv1 5x5
    128 -> 768 (-> 1x1), each with a batch norm, adaptive pool, fc 768 -> 1000."""
    report = analyze(build_graph(load_shipped("inception_v3")))
    head = report.aux_cost()
    assert head is not None
    conv0, conv1, logits = conv(5, 5, 1, 768, 128), conv(1, 1, 5, 128, 768), fc(768, 1000)
    parts = (conv0, conv1, logits)
    assert head.aux_mult_adds == sum(part[0] for part in parts)
    assert head.params + head.bn_params == sum(part[1] + part[2] for part in parts)
    # the figure: the head is 3,326,696 of torchvision's 27,161,264
    assert head.params + head.bn_params == 3_326_696
    total = report.total.cost
    assert total.params + total.bn_params == PUBLISHED["inception_v3"].num_params
    assert total.aux_mult_adds == head.aux_mult_adds


# -- PyTorch ---------------------------------------------------------------------------------


@pytest.mark.torch
def test_the_module_holds_the_head_and_runs_it_in_training_only() -> None:
    torch = pytest.importorskip("torch")
    from mbcalc.pytorch.network import Network

    (_, params, bn_params), (_, head_params, head_bn) = counts()
    graph = build_graph(parse_spec(network()))
    module = Network(graph)
    assert sum(p.numel() for p in module.parameters()) == params + bn_params + head_params + head_bn
    ran: list[str] = []
    for op, part in zip(graph.ops, module.ops, strict=True):
        part.register_forward_hook(lambda *_, name=op.name: ran.append(name))
    with torch.no_grad():
        assert module.eval()(torch.zeros(1, 3, 16, 16)).shape == (1, 10)
        assert not any(name.startswith("head.") for name in ran)
        ran.clear()
        assert module.train()(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    assert [name for name in ran if name.startswith("head.")] == [
        "head.pool",
        "head.conv",
        "head.fc",
    ]


@pytest.mark.torch
def test_verify_checks_the_heads_params_and_the_rest_in_full() -> None:
    pytest.importorskip("torch")
    from mbcalc.pytorch.verification import verify

    verification = verify(report_of(network()))
    assert verification.ok
    checked = {check.row.op.name: [name for name, _, _ in check.comparisons()]
               for check in verification.checks}  # fmt: skip
    assert checked["head.conv"] == ["params", "BN params", "activation"]
    assert checked["body"][:2] == ["shape", "mult-adds"]


def test_the_summary_line_names_the_heads_mult_adds(spec_file: str) -> None:
    (mult_adds, _, _), (head_mult_adds, _, _) = counts()
    line = invoke_mbcalc("table", spec_file, "--summary").stdout
    assert f"· {mult_adds:,} mult-adds ·" in line
    assert f"(aux head: {head_mult_adds:,} mult-adds, train only)" in line
