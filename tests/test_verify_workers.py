"""`elicense serve` with verification workers (api.workers, api.fastpath), as a user runs it: the
demo's every case answered by the workers, single and in batches split between them; everything
the workers do not take answered by the primary exactly as before (validation, limits, issuer
endpoints with their keys, receipts, the counter page, metrics); a change made through the API
reaching the workers before the API call returns; a killed worker replaced while the port keeps
answering; and no worker left behind when the primary stops or dies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.fastpath import PART_HEADER
from api.workers import FAST_ROUTES, LATENCY_BUCKETS, STATUSES, SharedCounters
from devkit.samples import SampleFactory
from devkit.serving import ServedProcess, serve_command
from devkit.waiting import wait_until

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
BODY_LIMIT = 2 * 1024 * 1024


def _serve(home: Path, log_dir: Path, *, licenses: int = 30, workers: int = 2, **settings: str) -> ServedProcess:
    env = {
        **os.environ,
        "ELICENSE_RPC_URL": "",
        "ELICENSE_MAX_BODY_BYTES": str(BODY_LIMIT),
        "ELICENSE_ANCHOR_INTERVAL": "0.5",
        **{f"ELICENSE_{k.upper()}": v for k, v in settings.items()},
    }
    command = [str(ELICENSE), "--home", str(home), "serve", "--port", "0", "--licenses", str(licenses)]
    command += ["--no-second-region", "--verify-workers", str(workers)]
    return serve_command(lambda _port: command, log_dir=log_dir, env=env, seconds=240)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(c) for c in children)
    return found


def _workers_of(pid: int) -> set[int]:
    """The verification workers among ``pid``'s children (named ``elicense-verify-N``)."""
    found = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"multiprocessing.spawn" in cmdline and b"tracker_fd" in cmdline:
            found.add(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] if Path(f"/proc/{pid}").exists() else "X"
    return state != "Z"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedProcess, Path]]:
    home = tmp_path_factory.mktemp("workers-home")
    process = _serve(home, home)
    try:
        assert "(2 verification workers)" in process.output()
        yield process, home
    finally:
        process.stop()


def _cases(home: Path) -> dict[str, dict[str, str]]:
    """The demo's cases, but for its license left unanchored: the service's anchoring worker
    anchors it within seconds, so its answer changes during the test."""
    cases = json.loads((home / "demo" / "presentations.json").read_text())
    del cases["not_anchored"]
    return cases


def _worker_count(client: httpx.Client, route: str) -> float:
    metrics = client.get("/metrics").text
    found = re.search(rf'elicense_worker_request_seconds_count\{{route="{re.escape(route)}"\}} (\S+)', metrics)
    assert found is not None, metrics[:2000]
    return float(found.group(1))


def _same_answer(a: dict, b: dict) -> None:
    """Two answers to the same text, made at different moments, agree on everything but when."""
    a, b = dict(a), dict(b)
    for answer in (a, b):
        answer.pop("checked_at", None)
        answer.pop("receipt", None)
        answer.pop("chain", None)
    assert a == b


def test_the_workers_answer_every_demo_case_as_the_primary_does(served):
    process, home = served
    cases = _cases(home)
    with httpx.Client(base_url=process.url, timeout=60) as client:
        before = _worker_count(client, "/v1/verify")
        answers = {name: client.post("/v1/verify", json={"qr": c["text"]}).json() for name, c in cases.items()}
        assert {n: a["status"] for n, a in answers.items()} == {n: c["expected"] for n, c in cases.items()}
        assert _worker_count(client, "/v1/verify") >= before + len(cases)  # the workers answered them
        # a receipt is signed by the primary (the workers hold no key): the same answer, signed
        for name, case in cases.items():
            signed = client.post("/v1/verify", json={"qr": case["text"], "receipt": True})
            assert signed.status_code == 200, signed.text
            assert "receipt" in signed.json()
            _same_answer(signed.json(), answers[name])
        batch = client.post("/v1/verify/batch", json={"qrs": [c["text"] for c in cases.values()]}).json()
        assert batch["count"] == len(cases)
        for answer, name in zip(batch["results"], cases, strict=True):
            _same_answer(answer, answers[name])
        assert 'elicense_verifications_total{status="revoked"}' in client.get("/metrics").text


def test_a_large_batch_is_split_between_the_workers_in_order_hostile_items_answering_for_themselves(served):
    process, home = served
    cases = list(_cases(home).values())
    hostile = ["", "LC2:", "LC1:" + "A" * 5000, "LB1:%%%", "\u0000" * 10, "LC2:" + "Z" * 400, "lc2:" + "0" * 300]
    texts = [cases[i % len(cases)]["text"] for i in range(2600)]
    for i, bad in enumerate(hostile):
        texts[i * 371] = bad
    expected = [c["expected"] for c in (cases[i % len(cases)] for i in range(2600))]
    for i, _ in enumerate(hostile):
        expected[i * 371] = "malformed"
    with httpx.Client(base_url=process.url, timeout=120) as client:
        parts_before = _worker_count(client, "/v1/verify/batch")
        response = client.post("/v1/verify/batch", json={"qrs": texts})
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        body = response.json()
        assert body["count"] == len(texts)
        assert [r["status"] for r in body["results"]] == expected
        # the batch itself and the part the other worker verified
        assert _worker_count(client, "/v1/verify/batch") >= parts_before + 2
        # a client's part header on the service's port is ignored: the batch is shared as any other
        # (it does not queue in the thread that verifies the workers' parts one after the other)
        parts_before = _worker_count(client, "/v1/verify/batch")
        forged = client.post("/v1/verify/batch", json={"qrs": texts}, headers={PART_HEADER: "1"}).json()
        assert [r["status"] for r in forged["results"]] == expected
        assert _worker_count(client, "/v1/verify/batch") >= parts_before + 2


def test_what_the_workers_do_not_take_the_primary_answers(served):
    process, home = served
    text = _cases(home)["valid"]["text"]
    with httpx.Client(base_url=process.url, timeout=60) as client:
        for body in ({"qr": 5}, {"qr": text, "extra": 1}, {"qr": text, "receipt": "yes"}, {"qrs": []}, [text]):
            route = "/v1/verify/batch" if isinstance(body, dict) and "qrs" in body else "/v1/verify"
            refused = client.post(route, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        form = client.post("/v1/verify", content=f"qr={text}", headers={"content-type": "text/plain"})
        assert form.status_code == 422
        too_long = client.post("/v1/verify", json={"qr": "LC2:" + "A" * 5000})
        assert too_long.status_code == 422  # the model's bound, in the primary's words
        too_big = client.post("/v1/verify/batch", json={"qrs": [text] * 8000})
        assert too_big.status_code == 413
        assert too_big.json()["title"] == "Request too large"  # the same words as the primary's
        assert client.get("/v1/nothing").status_code == 404
        page = client.get("/")
        assert page.status_code == 200
        assert "<html" in page.text.lower()
        assert client.get("/readyz").json()["ready"] is True
        assert client.get("/openapi.json").json()["info"]["title"] == "E-license registry"


def test_an_issuer_change_through_the_api_reaches_the_workers_before_the_call_returns(served):
    process, _home = served
    found = re.search(r"API key of (\w{18}) \(shown once\): (elk_\S+)", process.output())
    assert found is not None
    uscc, key = found.groups()
    auth = {"Authorization": f"Bearer {key}"}
    base = f"/v1/issuers/{uscc}"
    body = SampleFactory(4242).business_license().to_dict()
    with httpx.Client(base_url=process.url, timeout=120) as client:
        assert client.post(f"{base}/licenses", json=body).status_code == 401
        issued = client.post(f"{base}/licenses", json=body, headers={**auth, "Idempotency-Key": "workers-1"})
        assert issued.status_code == 201, issued.text
        license_id = issued.json()["license_id"]
        text = client.get(f"{base}/licenses/{license_id}/qr", params={"format": "text"}, headers=auth).text
        assert client.post(f"{base}/anchor", headers=auth).status_code == 200
        assert client.post("/v1/verify", json={"qr": text}).json()["status"] == "valid"
        revoked = client.post(
            f"{base}/licenses/{license_id}/status", json={"action": "revoke", "reason": 4}, headers=auth
        )
        assert revoked.status_code == 200, revoked.text
        # every worker answers revoked at once: new connections land on either of them
        for _ in range(20):
            with httpx.Client(base_url=process.url, timeout=30) as fresh:
                assert fresh.post("/v1/verify", json={"qr": text}).json()["status"] == "revoked"


def test_a_killed_worker_is_replaced_while_the_port_keeps_answering(served):
    process, home = served
    text = _cases(home)["valid"]["text"]
    workers = _workers_of(process.process.pid)
    assert len(workers) == 2, workers
    victim = min(workers)
    with httpx.Client(base_url=process.url, timeout=30) as client:
        counted = _worker_count(client, "/v1/verify")
    os.kill(victim, signal.SIGKILL)
    answered = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with httpx.Client(base_url=process.url, timeout=30) as fresh:  # new connections: not the dead one's
            assert fresh.post("/v1/verify", json={"qr": text}).json()["status"] == "valid"
            answered += 1
        now = _workers_of(process.process.pid)
        if victim not in now and len(now) == 2 and answered >= 20:
            break
        time.sleep(0.05)
    replaced = _workers_of(process.process.pid)
    assert victim not in replaced
    assert len(replaced) == 2
    wait_until(lambda: b"starting it again" in process.log.read_bytes(), timeout=10, what="the restart logged")
    with httpx.Client(base_url=process.url, timeout=30) as client:
        for _ in range(10):
            assert client.post("/v1/verify", json={"qr": text}).json()["status"] == "valid"
        assert _worker_count(client, "/v1/verify") >= counted + answered  # counts kept across the restart


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_no_worker_is_left_on_the_port_when_the_primary_stops_or_dies(tmp_path, how):
    # the second one refuses to verify on a stale mirror: the workers pass that on to the primary
    refuse = {"stale_after": "0.001", "stale_policy": "refuse"} if how == "killed" else {}
    process = _serve(tmp_path / "home", tmp_path, licenses=20, **refuse)
    pid = process.process.pid
    if refuse:
        text = _cases(tmp_path / "home")["valid"]["text"]
        for route, body in (("/v1/verify", {"qr": text}), ("/v1/verify/batch", {"qrs": [text] * 2500})):
            refused = httpx.post(process.url + route, json=body, timeout=30)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "2"
            assert "verification is refused until it catches up" in refused.json()["detail"]
    workers = _workers_of(pid)
    assert len(workers) == 2
    folders = {Path(p).parent for p in _unix_sockets(pid)}
    assert folders
    assert all(oct(f.stat().st_mode & 0o777) == "0o700" for f in folders)
    if how == "stopped":
        process.stop()
    else:
        os.kill(pid, signal.SIGKILL)
        process.process.wait(10)
    wait_until(lambda: not any(_alive(w) for w in workers), timeout=15, what="the workers gone")
    assert not any(f.exists() for f in folders)  # the private sockets removed, by the workers if need be
    with pytest.raises(httpx.ConnectError):
        httpx.post(process.url + "/v1/verify", json={"qr": "LC2:"}, timeout=5)


def _unix_sockets(pid: int) -> set[str]:
    """Paths of the Unix sockets ``pid`` listens on (from /proc/net/unix and its open files)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    paths = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8 and parts[6] in inodes and parts[7].endswith(".sock"):
            paths.add(parts[7])
    return paths


def test_shared_counters_sum_the_workers_slots():
    counters = SharedCounters(3)
    counters.count_status(0, "valid")
    counters.count_status(2, "valid", 4)
    counters.count_status(1, "no-such-status")
    counters.observe(1, 0, 0.0015)
    counters.observe(2, 0, 99.0)  # beyond the last bucket: counted in +Inf only
    counters.observe(0, 1, 0.004)
    statuses = counters.statuses()
    assert statuses["valid"] == 5
    assert statuses["other"] == 1
    assert set(statuses) == set(STATUSES)
    buckets, count, total = counters.latency(0)
    assert count == 2
    assert total == pytest.approx(99.0015)
    assert buckets[LATENCY_BUCKETS.index(0.002)] == 1
    assert sum(buckets) == 1
    assert counters.latency(1)[1] == 1
    assert len(FAST_ROUTES) == 2
    # a second view of the same memory (as a worker holds it) sees the same numbers
    assert SharedCounters(3, counters.array).statuses() == statuses


def test_serve_refuses_a_worker_count_out_of_range(tmp_path):
    result = subprocess.run(
        [str(ELICENSE), "--home", str(tmp_path), "serve", "--verify-workers", "65"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--verify-workers" in result.stderr
    assert "0<=x<=64" in result.stderr


@pytest.mark.parametrize(
    ("url", "in_memory"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite:///file:mirror?mode=memory&cache=shared&uri=true", True),
        ("sqlite:////var/lib/elicense/mirror.db", False),
        ("sqlite:///mirror.db", False),
        ("postgresql+psycopg://elicense@db/mirror", False),
    ],
)
def test_an_in_memory_mirror_is_served_by_one_process(url, in_memory):
    """Workers read the primary's mirror database: one only the primary's process holds cannot be
    shared, and `serve` then runs as one process (and says so)."""
    from api.cli.service import _in_memory  # noqa: PLC0415 - the rule serve applies

    assert _in_memory(url) is in_memory
