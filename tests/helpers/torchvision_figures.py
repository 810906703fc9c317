"""torchvision's published figures for its classifiers, and those of the shipped specs.

`tests/data/torchvision_models.json` holds, for each of torchvision 0.28's classifiers, the
`num_params` and `_ops` of its weights' meta (torchvision/models/<family>.py) and the crop size
it is evaluated at: trainable parameters (BN scale and shift included, running statistics not)
and G multiply-accumulates to three decimals. googlenet is without its auxiliary heads
(aux_logits=False), as the published weights are. The model documentation
(https://pytorch.org/vision/stable/models.html, the classification table) prints the same
GFLOPS to two decimals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

FIGURES_FILE = Path(__file__).resolve().parents[1] / "data" / "torchvision_models.json"


@dataclass(frozen=True)
class Published:
    """One classifier's figures in torchvision's weights metadata."""

    num_params: int
    gflops: Decimal
    eval_size: int
    weights: str


def _published() -> dict[str, Published]:
    models = json.loads(FIGURES_FILE.read_text(encoding="utf-8"), parse_float=Decimal)["models"]
    return {name: Published(**figures) for name, figures in models.items()}


PUBLISHED = _published()

# The shipped specs checked against torchvision elsewhere (test_zoo_torchvision.py,
# test_zoo_mobile.py), beside the architecture tables and the rebuilt modules.
_CHECKED = (
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "resnet18",
    "resnet50",
    "googlenet",
    "squeezenet1_1",
)
TORCHVISION_PARAMS = {name: PUBLISHED[name].num_params for name in _CHECKED}
TORCHVISION_OPS_META = {name: float(PUBLISHED[name].gflops) for name in _CHECKED}
# The documentation's two decimals (its classification table).
TORCHVISION_GFLOPS = {
    "mobilenet_v2": 0.30,
    "mobilenet_v3_large": 0.22,
    "mobilenet_v3_small": 0.06,
    "efficientnet_b0": 0.39,
    "resnet18": 1.81,
    "resnet50": 4.09,
    "googlenet": 1.50,
    "squeezenet1_1": 0.35,
}

# EfficientNet-B0's stages as torchvision's _efficientnet_conf gives them
# (torchvision/models/efficientnet.py): expand ratio, kernel, stride, input, out, layers.
EFFICIENTNET_B0_STAGES = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)

# EfficientNetV2's stages as torchvision's _efficientnet_conf gives them: FusedMBConvConfig
# (fused: True) or MBConvConfig, expand ratio, kernel, stride, input, out, layers.
EFFICIENTNET_V2_STAGES = {
    "efficientnet_v2_s": (
        (True, 1, 3, 1, 24, 24, 2),
        (True, 4, 3, 2, 24, 48, 4),
        (True, 4, 3, 2, 48, 64, 4),
        (False, 4, 3, 2, 64, 128, 6),
        (False, 6, 3, 1, 128, 160, 9),
        (False, 6, 3, 2, 160, 256, 15),
    ),
    "efficientnet_v2_m": (
        (True, 1, 3, 1, 24, 24, 3),
        (True, 4, 3, 2, 24, 48, 5),
        (True, 4, 3, 2, 48, 80, 5),
        (False, 4, 3, 2, 80, 160, 7),
        (False, 6, 3, 1, 160, 176, 14),
        (False, 6, 3, 2, 176, 304, 18),
        (False, 6, 3, 1, 304, 512, 5),
    ),
    "efficientnet_v2_l": (
        (True, 1, 3, 1, 32, 32, 4),
        (True, 4, 3, 2, 32, 64, 7),
        (True, 4, 3, 2, 64, 96, 7),
        (False, 4, 3, 2, 96, 192, 10),
        (False, 6, 3, 1, 192, 224, 19),
        (False, 6, 3, 2, 224, 384, 25),
        (False, 6, 3, 1, 384, 640, 7),
    ),
}

# Per bottleneck of torchvision's _mobilenet_v3_conf: expanded channels, SE, activation.
V3_BLOCKS = {
    "mobilenet_v3_large": [
        (16, False, "relu"), (64, False, "relu"), (72, False, "relu"), (72, True, "relu"),
        (120, True, "relu"), (120, True, "relu"), (240, False, "hswish"), (200, False, "hswish"),
        (184, False, "hswish"), (184, False, "hswish"), (480, True, "hswish"),
        (672, True, "hswish"), (672, True, "hswish"), (960, True, "hswish"),
        (960, True, "hswish"),
    ],
    "mobilenet_v3_small": [
        (16, True, "relu"), (72, False, "relu"), (88, False, "relu"), (96, True, "hswish"),
        (240, True, "hswish"), (240, True, "hswish"), (120, True, "hswish"),
        (144, True, "hswish"), (288, True, "hswish"), (576, True, "hswish"),
        (576, True, "hswish"),
    ],
}  # fmt: skip
