"""The deployment view: activation and weight memory, liveness, devices and roofline time."""
