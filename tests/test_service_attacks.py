"""Attacks on the HTTP service, one test per finding it closes: the real app over the demo's data
(in-process chain, real mirror), real server processes over TCP (``elicense serve``, and a
service over a lasting store that is killed mid-request), and the counter page in real headless
Chromium.

Hostile inputs used:

- a well-formed license whose first valid day is the largest the format allows: the pipeline's
  date arithmetic overflows (it answered 500, and failed any batch holding it);
- the worst CBOR for a re-encoding decoder: a list holding one shared list twice, 20 levels deep
  (value sharing, tags 28/29), about 90 characters of QR text that take seconds to re-encode;
- images: a 0.15 MB PNG declaring 40 megapixels, a progressive JPEG of 67 megapixels, a 40
  megapixel photo, a noisy image at the pixel cap.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import base45
import cbor2
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image
from web3 import HTTPProvider, Web3

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.demo import DemoRun, run_demo
from devkit.samples import SampleFactory, png_declaring
from devkit.serving import listening_socket, serve_command
from devkit.waiting import wait_until
from registry import RegistryClient, connect
from registry.document._base45 import b45decode
from registry.document.presentation import PREFIX, decode_presentation
from registry.issuer.department import Department
from verifier.mirror import Mirror

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes

ROOT = Path(__file__).resolve().parent.parent
ELICENSE = Path(sys.executable).parent / "elicense"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BUREAU = "11110000MB0195560T"


# -- hostile inputs --------------------------------------------------------------------------------


def _text(item: Any, *, value_sharing: bool = False) -> str:
    return PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(item, value_sharing=value_sharing), 9)).decode()


def overflowing(valid_text: str) -> str:
    """A license read from ``valid_text`` (either form) with its first valid day set to the format's
    largest, as LC1."""
    lc1 = decode_presentation(valid_text).to_text(form="LC1")
    item = cbor2.loads(zlib.decompress(b45decode(lc1[len(PREFIX) :])))
    item[5] = 2**32 - 2
    return _text(item)


def shared_cbor(depth: int) -> str:
    """Nested shared references (CBOR tags 28/29): tiny, exponential to re-encode without sharing."""
    value: list[Any] = [1]
    for _ in range(depth):
        value = [value, value]
    return _text(value, value_sharing=True)


def photo(qr_png: Path, size: tuple[int, int], *, qr_side: int, fmt: str = "JPEG", **save: Any) -> bytes:
    """A photo-sized image holding the QR code ``qr_side`` pixels wide, in its middle."""
    canvas = Image.new("L", size, 235)
    code = Image.open(qr_png).convert("L").resize((qr_side, qr_side), Image.NEAREST)
    canvas.paste(code, ((size[0] - qr_side) // 2, (size[1] - qr_side) // 2))
    out = io.BytesIO()
    canvas.save(out, fmt, **save)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    """Random black and white blocks: the most work for the QR reader at that size."""
    small = Image.frombytes("L", (side // 4, side // 4), os.urandom((side // 4) ** 2))
    image = small.point(lambda v: 255 if v > 127 else 0).resize((side, side), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, Path]:
    home = tmp_path_factory.mktemp("attacks")
    return run_demo(home, connect(None), rpc_url=None, licenses=30, echo=lambda _m: None), home


def cases(demo: tuple[DemoRun, Path]) -> dict[str, dict[str, str]]:
    return json.loads((demo[1] / "demo" / "presentations.json").read_text())


def make_services(demo: tuple[DemoRun, Path], *, client: RegistryClient | None = None, **settings: Any) -> Services:
    run, home = demo
    deployment = run.client.deployment
    mirror = Mirror.at(home / f"mirror-{len(list(home.glob('mirror-*')))}.db", deployment, confirmations=1)
    return Services(
        Settings(home=home, **settings),
        deployment=deployment,
        client=client or run.client,
        mirror=mirror,
        store=run.store,
        departments=run.departments,
    )


class Served:
    """The app served by uvicorn on a loopback port, in a thread (real TCP, real event loop)."""

    def __init__(self, services: Services) -> None:
        sock = listening_socket()
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=30, what="the served app")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def _wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the service exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the service did not start")


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop the process (by its own id) and return what it printed."""
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=10)
    return output or ""


# -- finding 1: hostile input and CPU-heavy work ----------------------------------------------------


def test_finding1_batch_with_hostile_item_answers_200_with_item_malformed(demo):
    all_cases = cases(demo)
    valid, revoked = all_cases["valid"]["text"], all_cases["revoked"]["text"]
    hostile = overflowing(valid)
    services = make_services(demo, batch_workers=2)
    with TestClient(create_app(services)) as api:
        single = api.post("/v1/verify", json={"qr": hostile})
        assert single.status_code == 200
        assert single.json()["status"] == "malformed"
        assert single.json()["reasons"][0]["code"] == "malformed"

        small = api.post("/v1/verify/batch", json={"qrs": [valid, hostile, "LC1:" + "A" * 5000, revoked]})
        assert small.status_code == 200, small.text
        assert [r["status"] for r in small.json()["results"]] == ["valid", "malformed", "malformed", "revoked"]

        # 2,500 texts go to the worker processes: hostile ones scattered through both halves
        texts = [valid if i % 2 else revoked for i in range(2500)]
        for i in (0, 7, 1249, 1250, 2499):
            texts[i] = hostile
        large = api.post("/v1/verify/batch", json={"qrs": texts})
        assert large.status_code == 200, large.text
        statuses = [r["status"] for r in large.json()["results"]]
        assert len(statuses) == 2500
        for i, status in enumerate(statuses):
            expected = "malformed" if i in (0, 7, 1249, 1250, 2499) else ("valid" if i % 2 else "revoked")
            assert status == expected, i


def test_finding1_batch_survives_a_worker_killed_mid_way(demo):
    valid = cases(demo)["valid"]["text"]
    services = make_services(demo, batch_workers=2)
    with TestClient(create_app(services)) as api:
        assert api.post("/v1/verify/batch", json={"qrs": [valid] * 2000}).status_code == 200  # workers up
        workers = [p for p in multiprocessing.active_children() if p.is_alive()]
        assert workers
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(api.post, "/v1/verify/batch", json={"qrs": [valid] * 10_000})
            time.sleep(0.3)
            os.kill(workers[0].pid, signal.SIGKILL)
            response = pending.result(timeout=120)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert len(results) == 10_000
        assert {r["status"] for r in results} == {"valid"}
        assert "elicense_batch_worker_failures_total" in api.get("/metrics").text


def test_finding1_image_pixel_bomb_refused(demo):
    demo_dir = demo[1] / "demo"
    services = make_services(demo, image_workers=1, busy_wait=0)
    with TestClient(create_app(services)) as api:
        bomb = png_declaring(6324, 6324)  # 40 MP of RGBA in about 0.15 MB
        assert len(bomb) < 200_000
        started = time.perf_counter()
        refused = api.post("/v1/verify/image", files={"image": ("bomb.png", bomb, "image/png")})
        assert time.perf_counter() - started < 1.0
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "at most 4,194,304 pixels" in refused.json()["detail"]

        progressive = io.BytesIO()
        Image.new("L", (8192, 8192), 255).save(progressive, "JPEG", quality=30, progressive=True)
        refused = api.post("/v1/verify/image", files={"image": ("p.jpg", progressive.getvalue(), "image/jpeg")})
        assert refused.status_code == 422
        assert "progressive JPEG" in refused.json()["detail"]

        # an ordinary phone photo (40 MP JPEG) is still read: scaled while decoding
        big = photo(demo_dir / "valid.png", (7296, 5472), qr_side=2400, quality=85)
        started = time.perf_counter()
        read = api.post("/v1/verify/image", files={"image": ("photo.jpg", big, "image/jpeg")})
        assert read.status_code == 200, read.text
        assert read.json()["status"] == "valid"
        assert time.perf_counter() - started < 3.0

        spec = api.get("/openapi.json").json()["paths"]["/v1/verify/image"]["post"]["responses"]
        assert {"200", "413", "422", "503"} <= set(spec)


def test_finding1_image_decoding_is_bounded(demo):
    """One decoding slot and no waiting: concurrent uploads beyond it get 503 with Retry-After."""
    services = make_services(demo, image_workers=1, busy_wait=0)
    worst = noise_png(2048)
    with Served(services) as served, httpx.Client(base_url=served.url, timeout=60) as client:

        def upload(_i: int) -> httpx.Response:
            return client.post("/v1/verify/image", files={"image": ("noise.png", worst, "image/png")})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(upload, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {422, 503}, statuses
    assert 422 in statuses  # decoded: no QR code in noise
    busy = [a for a in answers if a.status_code == 503]
    assert busy, statuses
    assert busy[0].headers["Retry-After"] == "1"
    assert busy[0].json()["title"] == "Service busy"


def test_finding1_healthz_answers_while_worst_input_in_flight(tmp_path):
    """``elicense serve`` (demo mode) with a 10,000-text batch holding hostile texts and the worst
    images (each twice) in flight: /healthz keeps answering within 100 ms."""
    command = [str(ELICENSE), "--home", str(tmp_path), "serve", "--licenses", "40", "--no-worker"]
    served = serve_command(
        lambda port: [*command, "--port", str(port)],
        log_dir=tmp_path,
        env={**os.environ, "ELICENSE_RPC_URL": ""},
        seconds=180,
    )
    base = served.url
    try:
        presentations = json.loads((tmp_path / "demo" / "presentations.json").read_text())
        valid = presentations["valid"]["text"]
        hostile = [overflowing(valid), shared_cbor(20), "LC1:" + "A" * 5000]
        texts = [valid] * 10_000
        for i, text in zip((3, 5000, 9999), hostile, strict=True):
            texts[i] = text
        images = [
            ("bomb.png", png_declaring(6324, 6324)),
            ("photo.jpg", photo(tmp_path / "demo" / "valid.png", (7296, 5472), qr_side=2400, quality=85)),
            ("noise.png", noise_png(2048)),
        ]
        with httpx.Client(base_url=base, timeout=300) as warm:
            warm.post("/v1/verify/batch", json={"qrs": [valid] * 2000})  # start the worker processes
        # the attack runs in its own process, so the probe's timing is the server's alone
        (tmp_path / "batch.json").write_text(json.dumps({"qrs": texts}))
        for name, data in images:
            (tmp_path / name).write_bytes(data)
        attacker = subprocess.Popen([sys.executable, "-c", ATTACK, base, str(tmp_path), *(name for name, _ in images)])
        latencies: list[float] = []
        with httpx.Client(base_url=base, timeout=10) as probe:
            probe.get("/healthz")
            while attacker.poll() is None:
                started = time.perf_counter()
                assert probe.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.01)
        assert attacker.wait(60) == 0
        answers = json.loads((tmp_path / "answers.json").read_text())
    finally:
        served.stop()
    assert answers["batch"][0] == 200
    statuses = answers["batch"][1]
    assert [statuses[i] for i in (3, 5000, 9999)] == ["malformed"] * 3
    assert statuses.count("valid") == 10_000 - 3
    assert {status for status, _ in answers["images"]} <= {200, 422, 503}
    assert sorted(result for status, result in answers["images"] if status == 200) == ["valid"] * 2  # the photos
    assert len(latencies) >= 20
    latencies.sort()
    slow = [x for x in latencies if x >= 0.1]
    print(
        f"healthz under attack: {len(latencies)} probes, median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    # on a shared 2-core machine the scheduler may delay one probe; 99% answer within 100 ms
    assert len(slow) <= len(latencies) // 100, f"{len(slow)} of {len(latencies)} probes took 100 ms or more"


ATTACK = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import httpx
base, folder, *images = sys.argv[1:]
body = open(folder + "/batch.json", "rb").read()
with httpx.Client(base_url=base, timeout=300) as client, ThreadPoolExecutor(7) as pool:
    batch = pool.submit(client.post, "/v1/verify/batch", content=body, headers={"Content-Type": "application/json"})
    uploads = [
        pool.submit(client.post, "/v1/verify/image", files={"image": (name, open(folder + "/" + name, "rb").read())})
        for name in images * 2
    ]
    b = batch.result()
    answers = {
        "batch": [b.status_code, [r["status"] for r in b.json()["results"]]],
        "images": [[u.status_code, u.json().get("status") if u.status_code == 200 else None] for u in
                   (f.result() for f in uploads)],
    }
with open(folder + "/answers.json", "w") as out:
    json.dump(answers, out)
"""


def _decode_seconds(text: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(ValueError):
        decode_presentation(text)
    return time.perf_counter() - started


@pytest.mark.timeout(60)
def test_finding1_any_text_up_to_4096_characters_is_decided(demo):
    """Every hostile text is answered (the old decoder took days on ``shared_cbor(40)``); the time
    each takes is measured by ``scripts/bench_decode.py``, not asserted here."""
    valid = cases(demo)["valid"]["text"]
    hostile = [overflowing(valid), shared_cbor(24), shared_cbor(40), "LC1:" + "A" * 4092, "LC1:" + "%" * 4092]
    services = make_services(demo)
    with TestClient(create_app(services)) as api:
        for text in hostile:
            response = api.post("/v1/verify", json={"qr": text})
            assert response.status_code == 200
            assert response.json()["status"] == "malformed", text[:40]


# -- finding 10: what the service shows and how it fails ---------------------------------------------


TOKEN = "s3cr3tPr0v1derK3y"
PASSWORD = "hunter2pass"


_HELD: list[socket.socket] = []


@pytest.fixture(autouse=True, scope="module")
def _close_held_sockets() -> Iterator[None]:
    yield
    for sock in _HELD:
        sock.close()
    _HELD.clear()


def _refusing_port() -> int:
    """A loopback port bound here but not listening, so no one else takes it and every connection
    to it is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return int(sock.getsockname()[1])


def _dead_client(demo: tuple[DemoRun, Path]) -> tuple[RegistryClient, str]:
    """A chain client whose node URL carries credentials, with nothing listening there."""
    url = f"http://elk:{PASSWORD}@127.0.0.1:{_refusing_port()}/v3/{TOKEN}?apikey={TOKEN}"
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}, exception_retry_configuration=None))
    return RegistryClient(w3, demo[0].client.deployment, check_chain=False), url


def _shows_no_secret(text: str) -> None:
    assert TOKEN not in text
    assert PASSWORD not in text


def test_finding10_readyz_hides_rpc_url(demo, caplog):
    client, url = _dead_client(demo)
    services = make_services(demo, client=client, rpc_url=url, sync_interval=0.2)
    department = next(iter(demo[0].departments.values()))
    dead = Department(
        issuer_uscc=department.issuer_uscc,
        store=department.store,
        signer=department.signer,
        client=client,
        account=department.account,
    )
    services.departments = {department.issuer_uscc: dead}
    _, key = services.api_keys.create(department.issuer_uscc, "redaction test")
    auth = {"Authorization": f"Bearer {key}"}
    with caplog.at_level("DEBUG"), TestClient(create_app(services)) as api:
        time.sleep(0.5)  # a few follower passes fail
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["last_sync_error"]
        _shows_no_secret(ready.text)
        _shows_no_secret(api.get("/metrics").text)
        base = f"/v1/issuers/{department.issuer_uscc}"
        issued = api.post(f"{base}/licenses", json=SampleFactory(11).business_license().to_dict(), headers=auth)
        assert issued.status_code == 201, issued.text
        anchor = api.post(f"{base}/anchor", headers=auth)
        assert anchor.status_code >= 500
        assert anchor.headers["content-type"].startswith("application/problem+json")
        _shows_no_secret(anchor.text)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "mirror sync failed" in logged
    _shows_no_secret(logged)


def test_finding10_readyz_503_before_first_sync(demo):
    client, url = _dead_client(demo)
    services = make_services(demo, client=client, rpc_url=url)
    with TestClient(create_app(services)) as api:
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/json"
        body = ready.json()
        assert body["ready"] is False
        assert body["mirror"]["synced"] is False
        assert body["mirror"]["age_seconds"] is None
        result = api.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]}).json()
        assert result["stale"] is True
        assert "not been synced" in result["reasons"][-1]["en"]
        refusing = make_services(demo, client=client, rpc_url=url, stale_policy="refuse")
    with TestClient(create_app(refusing)) as api:
        refused = api.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]})
        assert refused.status_code == 503
        assert "has not been synced yet" in refused.json()["detail"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_finding10_stale_mirror_is_not_green(demo):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only where a browser runs

    services = make_services(demo, stale_after=1, sync_interval=600)
    with Served(services) as served:
        time.sleep(1.5)  # synced once at start, not since
        with httpx.Client(base_url=served.url) as client:
            result = client.post("/v1/verify", json={"qr": cases(demo)["valid"]["text"]}).json()
        assert result["status"] == "valid"
        assert result["stale"] is True
        manager = sync_playwright().start()
        browser = manager.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(served.url + "/")
            page.set_input_files("#file", str(demo[1] / "demo" / "valid.png"))
            page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
            assert page.get_attribute("#verdict", "data-stale") == "true"
            color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
            assert color == "rgb(212, 136, 6)"  # amber, never the green of rgb(0, 168, 84)
            assert page.locator("#headline").inner_text() == "有效，但链上数据未及时更新，请稍后复核"
            assert "链上数据已有" in page.locator("#stale-note").inner_text()
            assert page.locator("#stale-note").is_visible()
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "test-artifacts" / "counter-stale-mirror.png"), full_page=True)
            page.click("#lang")
            assert page.locator("#headline").inner_text().startswith("Valid, but the chain data is out of date")
            assert "has not been updated for" in page.locator("#stale-note").inner_text()
        finally:
            browser.close()
            manager.stop()


def test_finding10_crashed_idempotent_request_expires(tmp_path):
    """The service process is killed (SIGKILL) after claiming an Idempotency-Key and before
    storing anything; after a restart the key answers 409 until the claim expires, then a retry
    issues the license once."""
    claim_seconds = 20  # a restart on a loaded machine must fit inside the claim
    env = {**os.environ, "ELICENSE_IDEMPOTENCY_CLAIM_SECONDS": str(claim_seconds), "PYTHONPATH": str(ROOT)}
    bound: list[int] = []  # the first start takes a port the system picks; the restart takes it again

    def start(**extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "_serve_store.py"), str(tmp_path), str(bound[0] if bound else 0)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**env, **extra},
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
                    break
            else:
                raise AssertionError("the service exited before listening")
            bound[:] = [int(found.group(1))]
            _wait_healthy(f"http://127.0.0.1:{bound[0]}", process)
        except BaseException:
            _stop(process)
            raise
        return process

    body = SampleFactory(21).business_license().to_dict()
    first = start(ELICENSE_FAILPOINT="idempotent_claimed")
    base = f"http://127.0.0.1:{bound[0]}"
    try:
        auth = {"Authorization": f"Bearer {(tmp_path / 'api-key').read_text()}", "Idempotency-Key": "order-77"}
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"{base}/v1/issuers/{BUREAU}/licenses", json=body, headers=auth, timeout=30)
        crashed_at = time.time()
        assert first.wait(10) == -signal.SIGKILL
    finally:
        _stop(first)
    second = start()
    try:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            assert time.time() - crashed_at < claim_seconds - 1, "the restart took longer than the claim lasts"
            early = client.post(f"/v1/issuers/{BUREAU}/licenses", json=body)
            assert early.status_code == 409, early.text
            assert early.json()["title"] == "Request in progress"
            time.sleep(max(0.0, crashed_at + claim_seconds + 1.5 - time.time()))
            retry = client.post(f"/v1/issuers/{BUREAU}/licenses", json=body)
            assert retry.status_code == 201, retry.text
            again = client.post(f"/v1/issuers/{BUREAU}/licenses", json=body)
            assert again.status_code == 201
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == retry.json()
            spec = client.get("/openapi.json").json()["paths"]["/v1/issuers/{uscc}/licenses"]["post"]["responses"]
            assert "409" in spec
    finally:
        _stop(second)


def test_finding10_metrics_have_a_place_for_mirror_gauges(demo):
    services = make_services(demo)
    services.metrics.mirror_gauge("elicense_mirror_test_reading", "A reading of the mirror", lambda m: 7.0)
    with TestClient(create_app(services)) as api:
        text = api.get("/metrics").text
        assert "elicense_mirror_test_reading 7.0" in text
        indexed = services.mirror.index.anchored_count
        assert indexed > 0
        assert f"elicense_mirror_anchors_indexed {float(indexed)}" in text
