"""The spec as a PyTorch module and the op-by-op check against it; the only place importing torch.

`mbcalc.torch` is this package under its documented name.
"""

from mbcalc.pytorch.network import (
    Measured,
    Network,
    OpCheck,
    Verification,
    build,
    verification_view,
    verify,
)

__all__ = ["Measured", "Network", "OpCheck", "Verification", "build", "verification_view", "verify"]
