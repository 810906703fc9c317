"""A PyTorch reference model's params and mult-adds, counted by forward hooks from its real
tensors: what the hand-written references of the tests are checked with."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Counted:
    params: int  # sum(p.numel() for p in model.parameters()): every norm's included
    mult_adds: int  # convolutions, linear layers and the attention products
    products: int  # the attention products alone


def count_with_hooks(model: nn.Module, side: int, products: tuple[type[nn.Module], ...]) -> Counted:
    """Run `model` on a 1 x 3 x side x side input; forward hooks count every Conv2d (output
    numel x kernel numel x in_channels / groups), Linear (output numel x in_features: once per
    token) and module of `products` (an attention product: output numel x the operands'
    shared inner size)."""
    layers: list[int] = []
    found: list[int] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            layers.append(output.numel() * kernel * module.in_channels // module.groups)
        elif isinstance(module, nn.Linear):
            layers.append(output.numel() * module.in_features)
        else:
            found.append(output.numel() * inputs[0].shape[-1])

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, (nn.Conv2d, nn.Linear, *products))
    ]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.randn(1, 3, side, side))
    finally:
        for handle in handles:
            handle.remove()
    params = sum(p.numel() for p in model.parameters())
    return Counted(params, sum(layers) + sum(found), sum(found))
