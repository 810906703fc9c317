"""`mbcalc list`: the shipped specs grouped by family, their figures read from the shipped index
(`archs/index.json`) while each spec's file is the one they were computed from."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import pytest
import yaml

from mbcalc import analyze, build_graph
from mbcalc.core import catalog as catalog_module
from mbcalc.core.catalog import catalog, chain_digest, read_index
from mbcalc.spec import zoo
from mbcalc.spec.zoo import family_of, load_shipped, shipped_names
from tests.helpers.cli import ok
from tests.helpers.zoo_cost import LARGEST

# torchvision's names, and the family each belongs to; the last ones are not shipped (yet).
FAMILY = {
    "mobilenet_v1": "MobileNet",
    "mobilenet_v1_conv": "MobileNet",
    "mobilenet_v3_small": "MobileNet",
    "efficientnet_b0": "EfficientNet",
    "efficientnet_v2_s": "EfficientNet",
    "resnet18": "ResNet",
    "resnext50_32x4d": "ResNeXt",
    "wide_resnet50_2": "Wide ResNet",
    "vgg11_bn": "VGG",
    "regnet_x_400mf": "RegNet",
    "regnet_y_128gf": "RegNet",
    "densenet121": "DenseNet",
    "convnext_tiny": "ConvNeXt",
    "shufflenet_v2_x1_0": "ShuffleNet",
    "googlenet": "Inception/GoogLeNet",
    "inception_v3": "Inception/GoogLeNet",
    "squeezenet1_0": "SqueezeNet",
    "mnasnet1_0": "MNASNet",
    "alexnet": "AlexNet",
    "vit_b_16": "ViT",
    "vit_h_14": "ViT",
    "maxvit_t": "MaxViT",
    "swin_t": "Swin",
    "swin_v2_b": "Swin",
}


@pytest.mark.parametrize("name", FAMILY)
def test_a_spec_belongs_to_the_family_its_name_says(name: str) -> None:
    assert family_of(name) == FAMILY[name]


def listed_rows() -> list[list[str]]:
    """The cells of each row of `mbcalc list` (printed wide: one line a row)."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in ok("list").splitlines()
        if line.startswith("│")
    ]


def test_the_list_names_each_family_once_above_its_specs() -> None:
    groups: dict[str, list[str]] = {}
    family = ""
    for name, shown, *_ in listed_rows():
        if shown:
            assert shown not in groups, f"{shown} listed twice"
            family = shown
            groups[family] = []
        groups[family].append(name)
    assert sorted(name for names in groups.values() for name in names) == shipped_names()
    for family, names in groups.items():
        assert {family_of(name) for name in names} == {family}
    shipped = set(shipped_names())
    for name, family in FAMILY.items():
        if name in shipped:
            assert name in groups[family]


def test_a_family_lists_its_cheapest_spec_first() -> None:
    resnets = [row[0] for row in listed_rows() if row[0].startswith("resnet")]
    assert resnets == ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def test_the_shipped_index_is_current() -> None:
    index = read_index()
    stale = []
    for name in shipped_names():
        graph = build_graph(load_shipped(name))
        total = analyze(graph).total.cost
        entry = index.get(name)
        current = (_files_digest(name), total.mult_adds, total.params, graph.resolution)
        if (
            entry is None
            or (entry.digest, entry.mult_adds, entry.params, entry.input_size) != current
        ):
            stale.append(name)
    assert not stale, f"rewrite archs/index.json with `python -m mbcalc.core.catalog`: {stale}"


def test_the_index_ships_in_the_package() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8")
    assert '"mbcalc.archs" = ["*.yaml", "index.json"]' in pyproject


def test_a_current_index_spares_reading_the_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> object:
        raise AssertionError(f"{name} was parsed")

    monkeypatch.setattr(catalog_module, "load_shipped", refuse)
    assert sorted(row.name for row in catalog()) == shipped_names()


# MobileNet v1 1.0-224 (the paper's Table 1): 568,740,352 mult-adds and 4,210,088 params, of
# which its fc 1024 -> 1000 has 1024 x 1000 mult-adds and 1024 x 1000 + 1000 params.
V1_MULT_ADDS, V1_PARAMS = 568_740_352, 4_210_088


def v1_with_classes(classes: int) -> tuple[int, int]:
    mult_adds = V1_MULT_ADDS - 1024 * 1000 + 1024 * classes
    return mult_adds, V1_PARAMS - (1024 * 1000 + 1000) + (1024 * classes + classes)


@pytest.fixture
def archs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped mobilenet_v1 and resnet18 and of the index, as the shipped zoo."""
    shipped = zoo.index_path().parent
    for name in ("mobilenet_v1.yaml", "resnet18.yaml", "index.json"):
        shutil.copy(shipped / name, tmp_path / name)
    monkeypatch.setattr(zoo, "_archs_dir", lambda: tmp_path)
    return tmp_path


def figures(name: str) -> tuple[int, int]:
    (row,) = [row for row in catalog() if row.name == name]
    return row.mult_adds, row.params


def test_an_edited_spec_is_listed_with_its_own_figures(archs: Path) -> None:
    spec = archs / "mobilenet_v1.yaml"
    assert figures("mobilenet_v1") == v1_with_classes(1000)
    spec.write_text(spec.read_text("utf-8").replace("out: 1000", "out: 10"), "utf-8")
    assert figures("mobilenet_v1") == v1_with_classes(10)


def test_a_spec_missing_from_the_index_is_listed(archs: Path) -> None:
    text = (archs / "mobilenet_v1.yaml").read_text("utf-8").replace("out: 1000", "out: 100")
    (archs / "mobilenet_v1_100.yaml").write_text(text, "utf-8")
    assert "mobilenet_v1_100" not in read_index()
    assert figures("mobilenet_v1_100") == v1_with_classes(100)
    assert figures("mobilenet_v1") == v1_with_classes(1000)


@pytest.mark.parametrize(
    "index",
    ["", "not json", "[]", '{"schema": "mbcalc.zoo-index/0", "specs": {}}', "{}"],
)
def test_an_unreadable_index_is_read_as_empty(archs: Path, index: str) -> None:
    (archs / "index.json").write_text(index, "utf-8")
    assert read_index() == {}
    assert figures("mobilenet_v1") == v1_with_classes(1000)


def test_an_entry_of_the_wrong_shape_is_not_used(archs: Path) -> None:
    document = json.loads((archs / "index.json").read_text("utf-8"))
    document["specs"]["mobilenet_v1"]["mult_adds"] = "many"
    (archs / "index.json").write_text(json.dumps(document), "utf-8")
    assert read_index() == {}
    assert figures("mobilenet_v1") == v1_with_classes(1000)


def _files_digest(name: str) -> str:
    """The CRC-32 of a shipped spec's file followed by its shipped bases' files, outermost
    first: what its index entry's figures come from."""
    folder = zoo.index_path().parent
    texts = [(folder / f"{name}.yaml").read_bytes()]
    while isinstance(base := yaml.safe_load(texts[-1]).get("base"), str):
        texts.append((folder / f"{base}.yaml").read_bytes())
    return f"{zlib.crc32(b''.join(texts)):08x}"


def test_an_entry_goes_stale_when_its_base_changes() -> None:
    base = b"name: base\nlayers: []\n"
    derived = b"# scaled\nbase: base  # its layers\nname: derived\n"
    texts = {"base": base, "derived": derived, "other": b"name: other\n"}
    before = chain_digest("derived", texts)
    assert before == f"{zlib.crc32(derived + base):08x}"
    assert chain_digest("derived", texts | {"other": b"name: changed\n"}) == before
    assert chain_digest("derived", texts | {"base": base + b"# edited\n"}) != before
    assert chain_digest("base", texts) == f"{zlib.crc32(base):08x}"


def test_the_largest_network_is_the_one_the_sweep_checks_at_the_int64_bound() -> None:
    assert max(catalog(), key=lambda row: row.mult_adds).name == LARGEST
