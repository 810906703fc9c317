"""torchvision's published figures for the shipped specs that reproduce its models.

From torchvision's model documentation (https://pytorch.org/vision/stable/models.html, the
classification table; per model the `num_params` and `_ops` of its weights' meta in
torchvision/models/<family>.py): trainable parameters (BN scale and shift included, running
statistics not) and GFLOPS, which torchvision counts as G multiply-accumulates. googlenet is
without its auxiliary heads (aux_logits=False), as the published weights are.
"""

from __future__ import annotations

TORCHVISION_PARAMS = {
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032,
    "mobilenet_v3_small": 2_542_856,
    "efficientnet_b0": 5_288_548,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "googlenet": 6_624_904,
    "squeezenet1_1": 1_235_496,
}
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
# The same figures to three decimals, as the weights' meta hold them (`"_ops": 0.301` ...);
# the documentation rounds these to two.
TORCHVISION_OPS_META = {
    "mobilenet_v2": 0.301,
    "mobilenet_v3_large": 0.217,
    "mobilenet_v3_small": 0.057,
    "efficientnet_b0": 0.386,
    "resnet18": 1.814,
    "resnet50": 4.089,
    "googlenet": 1.498,
    "squeezenet1_1": 0.349,
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
