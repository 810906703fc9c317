"""The spec as a PyTorch module and the op-by-op check against it; the only place importing torch.

`mbcalc.torch` is this package under its documented name. The check is data; its Rich view is
`mbcalc.views.verify_view.verification_view`.
"""

from mbcalc.pytorch.network import Network, build
from mbcalc.pytorch.verification import Measured, OpCheck, Verification, verify

__all__ = ["Measured", "Network", "OpCheck", "Verification", "build", "verify"]
