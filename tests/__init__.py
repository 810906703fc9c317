"""mbcalc's test suite: a package, so that its modules import the shared `tests.helpers`."""
