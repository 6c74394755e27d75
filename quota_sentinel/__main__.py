"""`python -m quota_sentinel` runs the command-line interface."""

from quota_sentinel.cli import main

main()
