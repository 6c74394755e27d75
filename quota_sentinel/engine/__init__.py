"""Pure forecasting engine: velocity, projection, status, recommendation and allocation.

Standard library only; nothing here reads the environment, Redis or the clock, so `now` is
always an argument (epoch seconds). Utilization is percent used (0–100), velocity is percent
per hour.
"""

from .allocation import (
    STATE_WEIGHTS,
    WEIGHT_UNITS,
    effective_cap,
    share_of,
    shares,
    weight_units,
)
from .backtest import Summary, TracePoint, run_window, summarize
from .caps import DEFAULT_HARD_CAPS, FALLBACK_CAP, cap_for
from .projection import minutes_to_cap, projected_at_reset
from .recommendation import Advice, Recommendation, recommend
from .samples import Sample
from .status import (
    MAX_LOOKAHEAD_MIN,
    YELLOW_MARGIN_FACTOR,
    Status,
    WindowForecast,
    forecast_window,
    window_status,
    worst_status,
)
from .velocity import current_segment, sample_gap_min, velocity_pct_per_hour

__all__ = [
    "DEFAULT_HARD_CAPS",
    "FALLBACK_CAP",
    "MAX_LOOKAHEAD_MIN",
    "STATE_WEIGHTS",
    "WEIGHT_UNITS",
    "YELLOW_MARGIN_FACTOR",
    "Advice",
    "Recommendation",
    "Sample",
    "Status",
    "Summary",
    "TracePoint",
    "WindowForecast",
    "cap_for",
    "current_segment",
    "effective_cap",
    "forecast_window",
    "minutes_to_cap",
    "projected_at_reset",
    "recommend",
    "run_window",
    "sample_gap_min",
    "share_of",
    "shares",
    "weight_units",
    "summarize",
    "velocity_pct_per_hour",
    "window_status",
    "worst_status",
]
