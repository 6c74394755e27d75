"""Pure forecasting engine: velocity, projection, status, recommendation and allocation.

Every forecast rule lives here, and every reader runs it the same way:

1. `observe(samples, now=, horizon_min=horizon_for(horizon, poll_interval))` turns a window's
   samples into a `Trend` (latest reading, burn rate, noise, look-ahead), independent of any
   cap. The worker does this once per poll and stores it; `replay` does it at every trace row.
2. `freshness(ok_at=, error_code=, ..., now=)` judges the data after failed or missing polls.
3. `grade(trend, cap=, now=, safety_margin_min=, fresh=)` gives the `WindowForecast` (status,
   outlook, projections) for one cap: the server per instance with its effective cap, the team
   view at the account's cap, `replay` at the trace's cap.

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
from .freshness import FRESH, TRUST_INTERVALS, TRUST_MIN_S, Freshness, freshness, trust_s
from .projection import minutes_to_cap, projected_at_reset
from .recommendation import Advice, Recommendation, recommend
from .samples import Sample
from .status import (
    MAX_LOOKAHEAD_MIN,
    YELLOW_MARGIN_FACTOR,
    Outlook,
    Status,
    WindowForecast,
    forecast_window,
    grade,
    window_status,
    worst_status,
)
from .trend import Fit, Trend, fit, horizon_for, observe
from .velocity import current_segment, sample_gap_min, velocity_pct_per_hour

__all__ = [
    "DEFAULT_HARD_CAPS",
    "FALLBACK_CAP",
    "FRESH",
    "TRUST_INTERVALS",
    "TRUST_MIN_S",
    "Fit",
    "Freshness",
    "Outlook",
    "Trend",
    "fit",
    "freshness",
    "grade",
    "horizon_for",
    "observe",
    "trust_s",
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
