"""The counter page in real headless Chromium (Debian's, driven by Playwright): a clerk uploads a
photo of a QR code, and scans one live through Chromium's fake camera fed with the QR image; a
joint application's bundle (联办码) shows its applicant, departments and member licenses. Each
test saves a screenshot under test-artifacts/."""

from __future__ import annotations

import datetime as dt
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
from devkit.joint import SHANGHAI, JointWorld, add_departments, credit_code, seven_requests
from devkit.serving import listening_socket
from devkit.waiting import wait_until
from registry import RegistryClient, connect, dev_accounts
from registry.document.qr import render_png
from registry.issuer.store import IssuerStore
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


def _serve(services: Services) -> Iterator[str]:
    sock = listening_socket()  # bound to a port the kernel picked, handed to uvicorn as it is
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=30, what="uvicorn starting")
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


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
    for base in _serve(services):
        yield base, home / "demo"


def _joint_bundle(world: JointWorld, applicant: str, name: str, *, revoke: str | None = None) -> str:
    """The QR text of an anchored bundle of the seven licenses of ``applicant`` (after revoking the
    member of type ``revoke``, if given)."""
    licenses = {}
    for code, request in seven_requests(applicant, name, dt.date.today()).items():
        key = next(s.key for s in SHANGHAI if code in s.types)
        licenses[code] = (world.departments[key], world.departments[key].issue(request).license_id)
    for department in world.departments.values():
        department.anchor_pending()
    lead = world.departments["sh-samr"]
    application = world.desk.open(lead_uscc=lead.issuer_uscc, applicant_uscc=applicant, applicant_name=name)
    world.desk.add(application.application_id, [lid for _d, lid in licenses.values()])
    for key, department in world.departments.items():
        world.desk.cosign(application.application_id, department.issuer_uscc, world.co_signing_keys[key])
    world.desk.anchor(application.application_id, lead.account)  # type: ignore[arg-type]
    if revoke is not None:
        department, license_id = licenses[revoke]
        department.revoke([license_id], reason=3)
    return world.desk.presentation(application.application_id)


JOINT_NAME = "上海某某国际贸易有限公司"
JOINT_APPLICANT = credit_code("91310115MA1H8Y2K3")


@pytest.fixture(scope="module")
def joint_server(tmp_path_factory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """上海市's five departments on their own chain, with two anchored bundles: all valid, and one
    whose public-security registration (SE) was revoked after the joint anchor."""
    home = tmp_path_factory.mktemp("counter-joint")
    w3 = connect(None)
    admin, authority = dev_accounts(w3)[:2]
    client, _ = RegistryClient.deploy(w3, admin)
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, authority.address)
    store = IssuerStore.at(home / "store.db")
    world = add_departments(client, store, admin=admin, authorities={310000: authority})
    valid = _joint_bundle(world, JOINT_APPLICANT, JOINT_NAME)
    revoked = _joint_bundle(world, credit_code("91310115MA1H8Y3L4"), "上海另一国际贸易有限公司", revoke="SE")
    (home / "bundle-valid.png").write_bytes(render_png(valid))
    (home / "bundle-revoked.png").write_bytes(render_png(revoked))
    deployment = client.deployment
    services = Services(
        Settings(home=home),
        deployment=deployment,
        client=client,
        mirror=Mirror.at(home / "mirror.db", deployment, confirmations=1),
        store=store,
        departments={d.issuer_uscc: d for d in world.departments.values()},
    )
    names = {s.uscc: s.name for s in SHANGHAI}
    for base in _serve(services):
        yield base, home, names


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


def test_a_joint_bundle_shows_its_applicant_departments_and_members(joint_server):
    base, home, names = joint_server
    manager, browser = _browser([])
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(base + "/")
        page.set_input_files("#file", str(home / "bundle-valid.png"))
        page.wait_for_selector("#verdict[data-status=valid]", timeout=15000)
        assert page.get_attribute("#verdict", "data-kind") == "bundle"
        assert page.locator("#headline").inner_text() == "联办证照齐全有效"
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(0, 168, 84)"  # green
        details = page.locator("#details").inner_text()
        assert JOINT_NAME in details
        assert JOINT_APPLICANT in details
        departments = page.locator("#departments li")
        assert departments.count() == 5
        assert {departments.nth(i).get_attribute("data-uscc") for i in range(5)} == set(names)
        assert {departments.nth(i).get_attribute("data-approved") for i in range(5)} == {"true"}
        assert names[SHANGHAI[0].uscc] in page.locator("#departments").inner_text()
        assert "已会签" in page.locator("#departments").inner_text()
        members = page.locator("#members li")
        assert members.count() == 7
        assert {members.nth(i).get_attribute("data-status") for i in range(7)} == {"valid"}
        text = page.locator("#members").inner_text()
        assert "营业执照" in text
        assert "有效" in text
        assert page.locator("#fields").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "counter-bundle-valid.png"), full_page=True)
        page.click("#lang")
        assert page.locator("#headline").inner_text() == "Joint licenses: all valid"
        assert "co-signed" in page.locator("#departments").inner_text()
        assert "Business license" in page.locator("#members").inner_text()

        page.set_input_files("#file", str(home / "bundle-revoked.png"))
        page.wait_for_selector("#verdict[data-status=member_not_valid]", timeout=15000)
        color = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(212, 56, 13)"  # red
        revoked = page.locator("#members li[data-status=revoked]")
        assert revoked.count() == 1
        assert revoked.get_attribute("data-license-id").startswith("SE")  # type: ignore[union-attr]
        assert "Revoked" in revoked.inner_text()
        row_color = revoked.evaluate("e => getComputedStyle(e.querySelector('.status')).backgroundColor")
        assert row_color == "rgb(212, 56, 13)"
        assert page.locator("#members li[data-status=valid]").count() == 6
        page.click("#lang")
        assert "已吊销" in revoked.inner_text()
        page.screenshot(path=str(ARTIFACTS / "counter-bundle-revoked.png"), full_page=True)
    finally:
        browser.close()
        manager.stop()
