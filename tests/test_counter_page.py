"""The counter page in real headless Chromium (Debian's, driven by Playwright): a clerk uploads a
photo of a QR code, and scans one live through Chromium's fake camera fed with the QR image. Each
test saves a screenshot under test-artifacts/."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import sync_playwright

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.demo import run_demo
from devkit.serving import listening_socket
from devkit.waiting import wait_until
from registry import connect
from verifier.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed: scripts/setup installs it (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("counter")
    run = run_demo(home, connect(None), rpc_url=None, licenses=30, echo=lambda _m: None)
    deployment = run.client.deployment
    services = Services(
        Settings(home=home),
        deployment=deployment,
        client=run.client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=run.store,
        departments=run.departments,
    )
    sock = listening_socket()  # bound to a port the kernel picked, handed to uvicorn as it is
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=30, what="uvicorn starting")
    assert server.started
    yield f"http://127.0.0.1:{port}", home / "demo"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _y4m(png: Path, target: Path, *, frames: int = 20) -> Path:
    """A raw video (YUV4MPEG2, 4:2:0) showing the QR image, for Chromium's fake camera."""
    qr = Image.open(png).convert("L")
    side = 440
    qr = qr.resize((side, side), Image.NEAREST)
    canvas = Image.new("L", (640, 480), 255)
    canvas.paste(qr, ((640 - side) // 2, (480 - side) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * (320 * 240)
    with target.open("wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            fh.write(b"FRAME\n" + luma + chroma + chroma)
    return target


def _browser(extra_args: list[str]):  # type: ignore[no-untyped-def]
    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS + extra_args)
    return manager, browser


def test_upload_a_photo(server):
    base, demo = server
    manager, browser = _browser([])
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "电子证照核验"
        page.set_input_files("#file", str(demo / "valid.png"))
        page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
        assert page.locator("#headline").inner_text() == "有效"
        assert "北京市市场监督管理局" in page.locator("#details").inner_text()
        assert "统一社会信用代码" in page.locator("#fields").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "counter-upload-valid.png"), full_page=True)
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(0, 168, 84)"  # green
        page.click("#lang")
        assert page.locator("#headline").inner_text() == "Valid"
        page.set_input_files("#file", str(demo / "tampered.png"))
        page.wait_for_selector("#verdict[data-status=tampered]", timeout=15000)
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(212, 56, 13)"  # red
        page.screenshot(path=str(ARTIFACTS / "counter-upload-tampered.png"), full_page=True)
    finally:
        browser.close()
        manager.stop()


def test_a_large_photo_is_scaled_in_the_browser(server, tmp_path):
    """A 12-megapixel PNG (the service refuses PNGs beyond 2048 x 2048 pixels) is scaled by the
    page before upload, and read."""
    base, demo = server
    big = Image.new("L", (4000, 3000), 235)
    big.paste(Image.open(demo / "valid.png").convert("L").resize((1500, 1500), Image.NEAREST), (1250, 750))
    photo = tmp_path / "photo.png"
    big.save(photo)
    manager, browser = _browser([])
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(base + "/")
        page.set_input_files("#file", str(photo))
        # read: sent as is, the service would refuse it (more than 2048 x 2048 pixels)
        page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
        assert page.get_attribute("#verdict", "data-stale") == "false"
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(0, 168, 84)"  # green: fresh mirror
    finally:
        browser.close()
        manager.stop()


def test_live_scan_with_the_camera(server, tmp_path):
    base, demo = server
    video = _y4m(demo / "revoked.png", tmp_path / "revoked.y4m")
    manager, browser = _browser(
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    )
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.grant_permissions(["camera"], origin=base)
        page = context.new_page()
        page.goto(base + "/")
        page.click("#start")
        page.wait_for_selector("#verdict[data-status=revoked]", timeout=30000)
        assert page.locator("#headline").inner_text() == "已吊销"
        assert "BL11110000MB0195560T" in page.locator("#details").inner_text()  # the license id
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "counter-camera-revoked.png"), full_page=True)
    finally:
        browser.close()
        manager.stop()
