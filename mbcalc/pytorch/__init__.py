"""The spec as a PyTorch module and the op-by-op check against it; the only place importing torch.

`mbcalc.torch` is this package under its documented name. `verification_view` (the Rich view of
a check) lives with the other views and is loaded from there on first use.
"""

from mbcalc.pytorch.network import Network, build
from mbcalc.pytorch.verification import Measured, OpCheck, Verification, verify

__all__ = ["Measured", "Network", "OpCheck", "Verification", "build", "verification_view", "verify"]


def __getattr__(name: str) -> object:
    """`verification_view`, from `mbcalc.views.verify_view`, loaded on first use."""
    if name == "verification_view":
        from mbcalc.views.verify_view import verification_view

        return verification_view
    raise AttributeError(f"module 'mbcalc.pytorch' has no attribute {name!r}")
