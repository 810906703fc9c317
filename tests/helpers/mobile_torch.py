"""torchvision's mobile networks rebuilt by hand in PyTorch, for tests/test_zoo_mobile.py.

torchvision cannot be installed here, so its builders are re-implemented from its source
(https://github.com/pytorch/vision, torchvision/models/_utils.py `_make_divisible`,
torchvision/models/mobilenetv2.py, mobilenetv3.py, efficientnet.py and torchvision/ops/misc.py
`Conv2dNormActivation` and `SqueezeExcitation`): the same classes, the same channel arithmetic in
floats, the same module order. Only what does not change a count is left out: weight
initialisation, dropout (kept as modules), stochastic depth (identity at inference), and
dilation. This module imports torch; the tests import it after `pytest.importorskip("torch")`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tests.helpers.torchvision_figures import EFFICIENTNET_B0_STAGES

Activation = Callable[..., nn.Module]


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision/models/_utils.py, verbatim in substance."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # make sure that round down does not go down by more than 10%
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """torchvision/ops/misc.py: conv (no bias, padding (k - 1) // 2), BatchNorm2d, activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation_layer: Activation | None = nn.ReLU,
    ) -> None:
        padding = (kernel_size - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False
            ),
            nn.BatchNorm2d(out_channels),
        ]
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision/ops/misc.py: avgpool, fc1 and fc2 as 1x1 convs with bias, gated scaling."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Activation = nn.ReLU,
        scale_activation: Activation = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: Tensor) -> Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(scale) * x


class _Residual(nn.Module):
    """The forward of torchvision's InvertedResidual and MBConv: `block`, plus the input where
    `use_res_connect`."""

    block: nn.Sequential
    use_res_connect: bool

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        return result + x if self.use_res_connect else result


# -- MobileNetV2: torchvision/models/mobilenetv2.py ---------------------------------------------


class InvertedResidualV2(_Residual):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden_dim = round(inp * expand_ratio)  # torchvision: int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(
                Conv2dNormActivation(inp, hidden_dim, kernel_size=1, activation_layer=nn.ReLU6)
            )
        layers += [
            Conv2dNormActivation(
                hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, activation_layer=nn.ReLU6
            ),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.block = nn.Sequential(*layers)


class MobileNetV2(nn.Module):
    # t, c, n, s: Table 2 of the paper, torchvision's inverted_residual_setting
    SETTING = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(self, width_mult: float = 1.0, num_classes: int = 1000) -> None:
        super().__init__()
        input_channel = _make_divisible(32 * width_mult, 8)
        last_channel = _make_divisible(1280 * max(1.0, width_mult), 8)
        features: list[nn.Module] = [
            Conv2dNormActivation(3, input_channel, stride=2, activation_layer=nn.ReLU6)
        ]
        for t, c, n, s in self.SETTING:
            output_channel = _make_divisible(c * width_mult, 8)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidualV2(input_channel, output_channel, stride, t))
                input_channel = output_channel
        features.append(
            Conv2dNormActivation(
                input_channel, last_channel, kernel_size=1, activation_layer=nn.ReLU6
            )
        )
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last_channel, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# -- MobileNetV3: torchvision/models/mobilenetv3.py ---------------------------------------------


@dataclass
class InvertedResidualConfig:
    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    use_hs: bool
    stride: int

    @classmethod
    def make(
        cls, inp: int, k: int, exp: int, out: int, se: bool, nl: str, s: int, width_mult: float
    ) -> InvertedResidualConfig:
        adjust = cls.adjust_channels
        return cls(
            adjust(inp, width_mult), k, adjust(exp, width_mult), adjust(out, width_mult), se,
            nl == "HS", s,
        )  # fmt: skip

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return _make_divisible(channels * width_mult, 8)


class InvertedResidualV3(_Residual):
    def __init__(self, cnf: InvertedResidualConfig) -> None:
        super().__init__()
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act: Activation = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels, cnf.expanded_channels, kernel_size=1, activation_layer=act
                )
            )
        layers.append(
            Conv2dNormActivation(
                cnf.expanded_channels,
                cnf.expanded_channels,
                kernel_size=cnf.kernel,
                stride=cnf.stride,
                groups=cnf.expanded_channels,
                activation_layer=act,
            )
        )
        if cnf.use_se:
            squeeze_channels = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(
                SqueezeExcitation(
                    cnf.expanded_channels, squeeze_channels, scale_activation=nn.Hardsigmoid
                )
            )
        layers.append(
            Conv2dNormActivation(
                cnf.expanded_channels, cnf.out_channels, kernel_size=1, activation_layer=None
            )
        )
        self.block = nn.Sequential(*layers)


# input, kernel, expanded, out, SE, NL, stride: torchvision's _mobilenet_v3_conf
V3_LARGE = (
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
)
V3_SMALL = (
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
)
V3_LAST_CHANNEL = {"large": 1280, "small": 1024}


class MobileNetV3(nn.Module):
    def __init__(self, arch: str, width_mult: float = 1.0, num_classes: int = 1000) -> None:
        super().__init__()
        rows = V3_LARGE if arch == "large" else V3_SMALL
        setting = [InvertedResidualConfig.make(*row, width_mult=width_mult) for row in rows]
        last_channel = InvertedResidualConfig.adjust_channels(V3_LAST_CHANNEL[arch], width_mult)
        first = setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=3, stride=2, activation_layer=nn.Hardswish)
        ]
        layers += [InvertedResidualV3(cnf) for cnf in setting]
        lastconv_input_channels = setting[-1].out_channels
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(
            Conv2dNormActivation(
                lastconv_input_channels,
                lastconv_output_channels,
                kernel_size=1,
                activation_layer=nn.Hardswish,
            )
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(lastconv_output_channels, last_channel),
            nn.Hardswish(),
            nn.Dropout(0.2),
            nn.Linear(last_channel, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# -- EfficientNet-B0: torchvision/models/efficientnet.py ----------------------------------------


@dataclass
class MBConvConfig:
    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int

    @staticmethod
    def adjust_channels(channels: float, width_mult: float) -> int:
        return _make_divisible(channels * width_mult, 8)


class MBConv(_Residual):
    def __init__(self, cnf: MBConvConfig) -> None:
        super().__init__()
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels, expanded_channels, kernel_size=1, activation_layer=nn.SiLU
                )
            )
        layers.append(
            Conv2dNormActivation(
                expanded_channels,
                expanded_channels,
                kernel_size=cnf.kernel,
                stride=cnf.stride,
                groups=expanded_channels,
                activation_layer=nn.SiLU,
            )
        )
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(SqueezeExcitation(expanded_channels, squeeze_channels, activation=nn.SiLU))
        layers.append(
            Conv2dNormActivation(
                expanded_channels, cnf.out_channels, kernel_size=1, activation_layer=None
            )
        )
        self.block = nn.Sequential(*layers)


B0 = EFFICIENTNET_B0_STAGES  # expand ratio, kernel, stride, input, out, layers


class EfficientNet(nn.Module):
    def __init__(self, width_mult: float = 1.0, num_classes: int = 1000) -> None:
        super().__init__()
        adjust = MBConvConfig.adjust_channels
        setting = [
            MBConvConfig(t, k, s, adjust(c_in, width_mult), adjust(c_out, width_mult), n)
            for t, k, s, c_in, c_out, n in B0
        ]
        first = setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=3, stride=2, activation_layer=nn.SiLU)
        ]
        for cnf in setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = MBConvConfig(**vars(cnf))
                if stage:  # not the stage's first block
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                stage.append(MBConv(block_cnf))
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = setting[-1].out_channels
        lastconv_output_channels = 4 * lastconv_input_channels
        layers.append(
            Conv2dNormActivation(
                lastconv_input_channels,
                lastconv_output_channels,
                kernel_size=1,
                activation_layer=nn.SiLU,
            )
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(0.2), nn.Linear(lastconv_output_channels, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# -- counting --------------------------------------------------------------------------------


ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.Hardswish: "hswish",
    nn.SiLU: "swish",
}
"""torch's activation modules by mbcalc's names for them."""


@dataclass(frozen=True)
class Layer:
    """One Conv2d or Linear as it ran: output (H, W, C), mult-adds, weight + bias count, and
    the activation after it (after its batch norm, if any) within its nn.Sequential: `none`
    where nothing follows, None outside a Sequential (squeeze-and-excite's fc1 and fc2)."""

    name: str
    output: tuple[int, int, int]
    mult_adds: int
    params: int
    act: str | None


def _activations(model: nn.Module) -> dict[nn.Module, str]:
    """The activation after each Conv2d and Linear that sits in an nn.Sequential."""
    found: dict[nn.Module, str] = {}
    for sequence in model.modules():
        if not isinstance(sequence, nn.Sequential):
            continue
        children = list(sequence)
        for i, module in enumerate(children):
            if not isinstance(module, nn.Conv2d | nn.Linear):
                continue
            after = children[i + 1 : i + 3]
            if after and isinstance(after[0], nn.BatchNorm2d):
                after = after[1:]
            found[module] = ACTIVATIONS.get(type(after[0]), "none") if after else "none"
    return found


@dataclass(frozen=True)
class Counted:
    params: int  # sum(p.numel() for p in model.parameters()): BN scale and shift included
    layers: tuple[Layer, ...]

    @property
    def mult_adds(self) -> int:
        return sum(layer.mult_adds for layer in self.layers)


def count(model: nn.Module, size: int = 224) -> Counted:
    """Run `model` on a 1 x 3 x size x size zeros input; forward hooks on every Conv2d (output
    numel x kernel numel x in_channels / groups) and Linear (in x out) record the mult-adds."""
    layers: list[Layer] = []
    names = {module: name for name, module in model.named_modules()}
    acts = _activations(model)

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        weights = sum(p.numel() for p in module.parameters(recurse=False))
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            mult_adds = output.numel() * kernel * module.in_channels // module.groups
            shape = (output.shape[2], output.shape[3], output.shape[1])
        else:
            assert isinstance(module, nn.Linear)
            mult_adds = module.in_features * module.out_features
            shape = (1, 1, module.out_features)
        layers.append(Layer(names[module], shape, mult_adds, weights, acts.get(module)))

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, nn.Conv2d | nn.Linear)
    ]
    model.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a batch of one runs some 15 times faster than on a busy pool
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size))
    finally:
        torch.set_num_threads(threads)
        for handle in handles:
            handle.remove()
    return Counted(sum(p.numel() for p in model.parameters()), tuple(layers))
