"""The exact core: plan, shapes, graph, cost formulas and reports at one setting; no formatting."""
