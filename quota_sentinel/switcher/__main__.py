"""`python -m quota_sentinel.switcher` runs `quota-sentinel switch`."""

from quota_sentinel.switcher.command import switch

switch(prog_name="quota-sentinel switch")
