"""torchvision's EfficientNetV2 rebuilt by hand in PyTorch, for tests/test_fused_mbconv.py.

Re-implemented from torchvision's source (https://github.com/pytorch/vision,
torchvision/models/efficientnet.py: `FusedMBConv`, `MBConv`, `EfficientNet` and
`_efficientnet_conf`) on the parts tests/helpers/mobile_torch.py already rebuilds
(`Conv2dNormActivation`, `SqueezeExcitation`, `MBConv`): the same module order and channel
arithmetic. Left out, as there: weight initialisation, BatchNorm's eps (V2's 1e-3), and stochastic
depth (the identity at inference). This module imports torch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tests.helpers.mobile_torch import Conv2dNormActivation, MBConv, MBConvConfig, _Residual
from tests.helpers.torchvision_figures import EFFICIENTNET_V2_STAGES


class FusedMBConv(_Residual):
    """A k x k conv to the expanded width and a 1x1 projection, or one k x k conv."""

    def __init__(self, cnf: MBConvConfig) -> None:
        super().__init__()
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        expands = expanded_channels != cnf.input_channels
        # the fused expansion to the expanded width, else the one conv to the output
        layers: list[nn.Module] = [
            Conv2dNormActivation(
                cnf.input_channels,
                expanded_channels if expands else cnf.out_channels,
                kernel_size=cnf.kernel,
                stride=cnf.stride,
                activation_layer=nn.SiLU,
            )
        ]
        if expands:  # the projection
            layers.append(
                Conv2dNormActivation(
                    expanded_channels, cnf.out_channels, kernel_size=1, activation_layer=None
                )
            )
        self.block = nn.Sequential(*layers)


class EfficientNetV2(nn.Module):
    """`EfficientNet(inverted_residual_setting, dropout, last_channel=1280)` for one of V2's
    stage tables."""

    def __init__(self, name: str, num_classes: int = 1000) -> None:
        super().__init__()
        stages = EFFICIENTNET_V2_STAGES[name]
        first = stages[0][4]
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=3, stride=2, activation_layer=nn.SiLU)
        ]
        for fused, *row in stages:
            t, k, s, c_in, c_out, n = row
            stage: list[nn.Module] = []
            for index in range(n):
                cnf = MBConvConfig(t, k, s, c_in, c_out, n)
                if index:  # not the stage's first block
                    cnf.input_channels, cnf.stride = c_out, 1
                stage.append(FusedMBConv(cnf) if fused else MBConv(cnf))
            layers.append(nn.Sequential(*stage))
        last_channel = 1280
        layers.append(
            Conv2dNormActivation(
                stages[-1][5], last_channel, kernel_size=1, activation_layer=nn.SiLU
            )
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last_channel, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        logits: Tensor = self.classifier(torch.flatten(x, 1))
        return logits
