"""Two of everything over one real redis-server on TCP: 2 `gunicorn wsgi:app` replicas, 2
workers and 2 schedulers, polling fake upstreams. In order, on one deployment:

- any instance key works on either replica, and /v1/team reads the same from both;
- Redis killed for 15 s: every endpoint answers a JSON 503 within 2 s; then everything
  recovers by itself (same processes, every instance kept, polls resume within 30 s);
- over all of it, one upstream call per credential per interval, never a duplicate;
- a worker killed mid-poll (SIGKILL, slow upstream): the account has fresh data again within
  the due lease (30 s) plus one interval, with no duplicate sample.

The instances poll every INTERVAL_S = 10 s, below the 30 s floor of a deployment: the
tests-and-benchmarks knob QUOTA_SENTINEL_MIN_POLL_INTERVAL lowers it, and the min poll gap is
scaled with it (half an interval, as 15 s is of 30 s), so each proof sees its polls in seconds
rather than minutes. The leases, lock TTLs and tick of the deployment are unchanged.

The measured times are printed (`pytest -rP tests/resilience` shows them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psutil
import pytest
import requests
from cryptography.fernet import Fernet

from quota_sentinel.store.keys import DUE_LEASE_S
from tests.resilience.cluster import Cluster, Proc, Web, wait_for
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import Reply, Request
from tests.upstreams.zai import ZaiFake

INTERVAL_S = 10  # QUOTA_SENTINEL_MIN_POLL_INTERVAL: below the 30 s floor of a deployment
MIN_POLL_GAP_S = INTERVAL_S // 2  # as the default 15 s is half the 30 s floor
# Polls resume within this long of Redis's return: one interval at the deployment floor.
RESUME_WITHIN_S = 30
ADMIN = "resilience-admin-token"
ZAI_KEY = "zai-resilience-key"
DEEPSEEK_KEY = "sk-resilience-deepseek"
OUTAGE_S = 15
ANSWER_WITHIN_S = 2.0


class CallLog:
    """Wall-clock times of the requests a fake received on its usage path."""

    def __init__(self, fake: ProviderFake) -> None:
        self.fake = fake
        self.times: list[float] = []
        self.lock = threading.Lock()
        fake.upstream.route("GET", fake.path, self._observe)

    def _observe(self, request: Request) -> Reply:
        with self.lock:
            self.times.append(time.time())
        return self.fake._serve(request)

    def since(self, t: float) -> list[float]:
        with self.lock:
            return [c for c in self.times if c > t]

    def all(self) -> list[float]:
        with self.lock:
            return list(self.times)


@dataclass
class Deployment:
    cluster: Cluster
    zai: ZaiFake
    calls: dict[str, CallLog]
    instances: list[dict] = field(default_factory=list)

    @property
    def webs(self) -> list[Web]:
        return self.cluster.webs

    def team(self, web: Web) -> dict:
        response = web.get("/v1/team", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 200, response.text
        return response.json()

    def account(self, web: Web, provider: str) -> dict | None:
        return next((a for a in self.team(web)["accounts"] if a["provider"] == provider), None)


def _auth(with_deepseek: bool) -> dict:
    auth = {"zai-coding-plan": {"key": ZAI_KEY}}
    if with_deepseek:
        auth["deepseek"] = {"key": DEEPSEEK_KEY}
    return {"opencode_auth": auth}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with ZaiFake(ZAI_KEY) as zai, DeepSeekFake(DEEPSEEK_KEY) as deepseek:
        calls = {"zai": CallLog(zai), "deepseek": CallLog(deepseek)}
        env = {
            "QUOTA_SENTINEL_SECRET_KEY": Fernet.generate_key().decode(),
            "QUOTA_SENTINEL_ADMIN_TOKEN": ADMIN,
            "QUOTA_SENTINEL_ZAI_BASE_URL": zai.url,
            "QUOTA_SENTINEL_DEEPSEEK_BASE_URL": deepseek.url,
            "QUOTA_SENTINEL_REGISTER_RATE": "100000",
            "QUOTA_SENTINEL_MIN_POLL_INTERVAL": str(INTERVAL_S),
            "QUOTA_SENTINEL_MIN_POLL_GAP": str(MIN_POLL_GAP_S),
            "QUOTA_SENTINEL_HEARTBEAT_FACTOR": "60",  # 10 min: the instances outlive the module
            "QUOTA_SENTINEL_HTTP_TIMEOUT": "25",
        }
        cluster = Cluster(tmp_path_factory.mktemp("deployment"), env)
        try:
            dep = Deployment(cluster, zai, calls)
            for i in range(8):  # registered alternately on each replica
                web = cluster.webs[i % 2]
                body = {"project_name": f"p{i}", "poll_interval": INTERVAL_S,
                        "auth": _auth(with_deepseek=i % 2 == 1)}  # fmt: skip
                response = web.get("/v1/instances", method="POST", json=body)
                assert response.status_code == 201, response.text
                dep.instances.append(response.json())
            yield dep
        finally:
            cluster.close()
            print(cluster.logs()[-6000:])


def test_any_key_works_on_either_replica_and_the_team_view_is_the_same(deployment):
    dep = deployment
    for web in dep.webs:
        for provider in ("zai", "deepseek"):
            wait_for(
                f"{provider} polled, seen from {web.name}",
                lambda w=web, p=provider: (a := dep.account(w, p)) and a.get("polled_at"),
            )
    for inst in dep.instances:
        for _ in range(3):  # a poll landed between the two requests: ask both again
            seen = _providers_on_each_replica(dep, inst)
            polled = [{p: v.get("polled_at") for p, v in s.items()} for s in seen]
            if polled[0] == polled[1]:
                break
        assert seen[0] == seen[1]
    assert _team_essentials(dep.team(dep.webs[0])) == _team_essentials(dep.team(dep.webs[1]))
    assert len(dep.team(dep.webs[0])["instances"]) == len(dep.instances)


def _providers_on_each_replica(dep: Deployment, inst: dict) -> list[dict]:
    """GET /v1/status's providers from each replica, without `data_age_s` (it counts from the
    moment of the request: two requests a few ms apart may straddle a second)."""
    answers = [web.get("/v1/status", headers={"X-API-Key": inst["api_key"]}) for web in dep.webs]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    return [
        {p: {k: v for k, v in view.items() if k != "data_age_s"} for p, view in providers.items()}
        for providers in (a.json()["providers"] for a in answers)
    ]


def _team_essentials(team: dict) -> dict:
    """What both replicas must agree on, without the fields that count from the moment of the
    request (ages, minutes left)."""
    return {
        "accounts": sorted(
            (
                a["provider"],
                a["fingerprint"],
                a["status"],
                a["polled_at"],
                a["subscribers"],
                sorted((n, w["utilization"], w["status"]) for n, w in a["windows"].items()),
            )
            for a in team["accounts"]
        ),  # fmt: skip
        "instances": sorted(
            (i["project"], i["state"], i["recommendation"]) for i in team["instances"]
        ),
        "status": team["summary"]["status"],
    }


def _endpoints(inst: dict) -> list[tuple[str, str, dict]]:
    key = {"X-API-Key": inst["api_key"]}
    iid = inst["instance_id"]
    body = {"project_name": "during", "auth": _auth(False)}
    return [
        ("GET", "/v1/health", {}),
        ("POST", "/v1/instances", {"json": body}),
        ("PATCH", f"/v1/instances/{iid}/heartbeat", {"headers": key, "json": {}}),
        ("GET", "/v1/status", {"headers": key}),
        ("GET", f"/v1/status/{iid}", {"headers": key}),
        ("GET", "/v1/providers", {"headers": key}),
        ("GET", "/v1/providers/zai", {"headers": key}),
        ("POST", "/v1/poll", {"headers": key}),
        ("GET", "/v1/samples", {"headers": key}),
        ("GET", "/v1/team", {"headers": {"Authorization": f"Bearer {ADMIN}"}}),
        ("DELETE", f"/v1/instances/{iid}", {"headers": key}),
    ]


def _outage_answers(dep: Deployment, web: Web) -> list[tuple[str, int, float, dict | None]]:
    answers = []
    for method, path, kwargs in _endpoints(dep.instances[0]):
        started = time.monotonic()
        response = web.get(path, method=method, **kwargs)
        elapsed = time.monotonic() - started
        try:
            body = response.json()
        except ValueError:
            body = None
        answers.append((f"{method} {path}", response.status_code, elapsed, body))
    return answers


def _pids(procs: list[Proc]) -> dict[str, int]:
    return {p.name: p.pid for p in procs if p.alive()}


def _redis_outage(dep: Deployment, outage_s: float) -> dict[str, float]:
    """Kills Redis just before the accounts are due, checks every endpoint during the outage,
    brings Redis back and checks the recovery; returns the measured times."""
    cluster = dep.cluster
    pids = _pids(cluster.processes)
    assert len(pids) == 6, cluster.logs()
    zai_calls = dep.calls["zai"]
    # Kill it while the accounts come due inside the outage: 2/3 of an interval after the last
    # zai poll.
    last = wait_for("a first zai poll", zai_calls.all, 6 * INTERVAL_S)[-1]
    time.sleep(max(0.0, last + INTERVAL_S * 2 / 3 - time.time()))
    cluster.redis.kill()
    killed = time.time()
    slow: list = []
    rounds = 0
    while time.time() < killed + outage_s:
        for web in dep.webs:
            for name, status, elapsed, body in _outage_answers(dep, web):
                assert status == 503, (web.name, name, status, body)
                assert body is not None, (web.name, name, "not JSON")
                if name.endswith("/v1/health"):
                    assert body["status"] == "unavailable", body
                else:
                    assert body["error"] == "redis_unavailable" and body["message"], body
                if elapsed > ANSWER_WITHIN_S:
                    slow.append((web.name, name, round(elapsed, 2)))
        rounds += 1
        time.sleep(0.5)
    assert rounds >= 2
    assert slow == [], f"answers slower than {ANSWER_WITHIN_S} s during the outage: {slow}"

    cluster.redis.start()
    back = time.time()
    # Polls resume: the accounts came due during the outage.
    first = wait_for("the first scheduled zai poll after Redis is back",
                     lambda: zai_calls.since(back), 2 * RESUME_WITHIN_S)[0]  # fmt: skip
    resumed_s = first - back
    assert resumed_s <= RESUME_WITHIN_S, f"polls resumed {resumed_s:.1f} s after Redis came back"
    # Nothing was restarted by hand or died; every instance is still there, on both replicas.
    assert _pids(cluster.processes) == pids, cluster.logs()
    for web in dep.webs:
        wait_for(f"{web.name} healthy again", lambda w=web: w.get("/v1/health").status_code == 200)
        for inst in dep.instances:
            response = web.get("/v1/status", headers={"X-API-Key": inst["api_key"]})
            assert response.status_code == 200, response.text
    wait_for(
        "the scheduler ticking again",
        lambda: dep.webs[0].get("/v1/health").json()["status"] == "ok",
        2 * RESUME_WITHIN_S,
    )
    # The background processes said so once, not once per retry. One scheduler ticking is
    # enough for health to say "ok"; another may still sit in its retry back-off (3 s at most)
    # or stand by for the tick lock, so each one's "back" line is waited for, not assumed.
    for proc in [*cluster.workers, *cluster.schedulers]:
        wait_for(
            f"{proc.name} saying Redis is back",
            lambda p=proc: "Redis is back after" in p.log(),
            2 * RESUME_WITHIN_S,
        )
        log = proc.log()
        assert 1 <= log.count("Redis is unreachable") <= 3, (proc.name, log[-3000:])
    return {"outage_s": round(back - killed, 1), "resumed_after_s": round(resumed_s, 1)}


def test_redis_down_15_s_answers_503_then_recovers_by_itself(deployment):
    measured = _redis_outage(deployment, OUTAGE_S)
    print(f"MEASURED redis outage: {measured}")


def test_one_upstream_call_per_credential_per_interval_across_replicas(deployment):
    dep = deployment
    # At least three polls of each account (the outage delayed one), after 2 intervals or more.
    first = min(log.all()[0] for log in dep.calls.values())
    time.sleep(max(0.0, first + 2 * INTERVAL_S - time.time()))
    for provider, log in dep.calls.items():
        wait_for(f"three {provider} polls", lambda lg=log: len(lg.all()) >= 3, 3 * INTERVAL_S)
    report = {}
    for provider, log in dep.calls.items():
        times = log.all()
        gaps = [round(b - a, 1) for a, b in zip(times, times[1:], strict=False)]
        duplicates = [g for g in gaps if g < INTERVAL_S / 2]
        report[provider] = {"calls": len(times), "gaps_s": gaps, "duplicates": len(duplicates)}
        assert len(times) >= 3, report
        assert duplicates == [], report
        # Jitter polls up to 10 % early; nothing comes sooner than that.
        assert min(gaps) >= INTERVAL_S * 0.9 - 1, report
    print(f"MEASURED upstream calls: {report}")


def _worker_polling(dep: Deployment, port: int) -> Proc | None:
    """The worker whose job (a forked child) has a connection open to the fake on `port`."""
    for worker in dep.cluster.workers:
        for pid in worker.tree():
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.raddr and c.raddr.port == port for c in conns):
                return worker
    return None


def test_a_worker_killed_mid_poll_does_not_stall_its_account(deployment):
    dep = deployment
    zai_calls = dep.calls["zai"]
    inst = dep.instances[0]
    key = {"X-API-Key": inst["api_key"]}
    dep.zai.fail("hang", hang_s=20)  # the next poll hangs in the upstream
    before = time.time()
    # Asked for now (as soon as the min poll gap allows), not after up to an interval.
    asked = dep.webs[0].get("/v1/poll", method="POST", headers=key)
    assert asked.status_code == 202, asked.text
    wait_for("a zai poll in flight", lambda: zai_calls.since(before), 6 * INTERVAL_S)
    victim = wait_for("the worker running it", lambda: _worker_polling(dep, dep.zai.upstream.port))
    survivors = [w for w in dep.cluster.workers if w is not victim]
    victim.kill()
    killed = time.time()
    dep.zai.ok()
    assert all(w.alive() for w in survivors)

    def fresh() -> float | None:
        account = dep.account(dep.webs[1], "zai")
        polled = account and account.get("polled_at")
        ok_since_kill = polled and not account["error"] and _epoch(polled) > killed
        return _epoch(polled) if ok_since_kill else None

    # Nobody asks again: the scheduler's due lease brings the account back (architecture §6).
    within_s = DUE_LEASE_S + INTERVAL_S
    fresh_at = wait_for("fresh zai data after the kill", fresh, 3 * within_s)
    recovered_s = fresh_at - killed
    assert recovered_s <= within_s, f"fresh data {recovered_s:.1f} s after the kill"
    # The killed poll left nothing; its replacement made exactly one call and one sample.
    assert len([t for t in zai_calls.since(killed) if t <= fresh_at + 1]) == 1
    samples = dep.webs[0].get("/v1/samples", headers=key).json()["samples"]
    times = sorted({s["t"] for s in samples if s["provider"] == "zai"})
    assert len(times) == len(set(times))
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= MIN_POLL_GAP_S for g in gaps), f"two zai samples within the gap: {times}"
    print(f"MEASURED worker killed: fresh data {recovered_s:.1f} s after the kill")


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# A long outage, longer than every lease, lock TTL and timeout it makes run out (the due lease,
# the tick job's TTL and timeout, health's tick-late threshold: 30 s; the poll lock: 15 s), with
# 15 s to spare: each of them expires while Redis is away.
LONG_OUTAGE_S = 45


@pytest.mark.slow
def test_redis_down_45_s_answers_503_then_recovers_by_itself(deployment):
    """The 15 s proof again, over an outage that outlasts every lease and lock TTL: each was
    taken or renewed before Redis went away, so each has expired when it comes back. It was
    2 minutes; 45 s proves the same (the longest of them, DUE_LEASE_S, is 30 s). What only
    the longer one reached, RQ's own 120 s CronScheduler registry entry expiring, RQ re-creates
    on its next heartbeat, and nothing of ours reads it."""
    assert LONG_OUTAGE_S >= DUE_LEASE_S + 15
    measured = _redis_outage(deployment, LONG_OUTAGE_S)
    print(f"MEASURED 45 s redis outage: {measured}")


def test_instances_keys_still_work_on_both_replicas_at_the_end(deployment):
    for web in deployment.webs:
        for inst in deployment.instances:
            r = requests.get(
                web.url + "/v1/status", headers={"X-API-Key": inst["api_key"]}, timeout=10
            )
            assert r.status_code == 200
