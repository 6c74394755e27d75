"""quota-sentinel: AI subscription quota monitoring for coding agents."""

__version__ = "0.1.0"
