"""PyTorch, or one clear error saying how to install it: the package's one import of torch."""

from mbcalc.errors import MbcalcError

try:
    import torch
    from torch import Tensor, nn
    from torch.nn import functional
except ImportError as error:
    raise MbcalcError(
        "PyTorch is not installed; mbcalc.torch and `mbcalc verify` need it",
        hint="pip install 'mbcalc[torch]'",
    ) from error

__all__ = ["Tensor", "functional", "nn", "torch"]
