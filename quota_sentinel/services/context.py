"""What every service call needs: settings, the store, the vault and the job queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from quota_sentinel.config import Settings
from quota_sentinel.connection import connect
from quota_sentinel.crypto import Vault, resolve_secret_key
from quota_sentinel.jobs import JobQueue
from quota_sentinel.store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    vault: Vault
    jobs: JobQueue
    # The one clock seam: services and jobs ask it for `now`; tests replace it.
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def build(cls, settings: Settings, *, patient: bool = False) -> Context:
        """Connects lazily (nothing is sent to Redis here) and loads the secret key.

        Args:
            patient: wait out Redis outages instead of failing (workers and schedulers; see
                connection.PatientRetry). Web processes fail fast and answer 503.
        """
        store = Store.open(connect(settings, patient=patient), settings.key_prefix)
        jobs = JobQueue(connect(settings, decode_responses=False, patient=patient), settings)
        return cls(settings, store, Vault(resolve_secret_key(settings)), jobs)

    def close(self) -> None:
        """Closes both Redis clients' connections (processes exit without calling it)."""
        self.store.r.close()
        self.jobs.r.close()
