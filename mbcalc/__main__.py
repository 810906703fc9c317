"""`python -m mbcalc`."""

from mbcalc.cli import main

main()
