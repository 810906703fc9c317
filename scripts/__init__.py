"""Scripts that write mbcalc's generated pages (`docs/cli-reference.md`, `docs/zoo.md`)."""
