"""Many settings at once: the vectorized alpha x resolution sweep and budget fitting."""
