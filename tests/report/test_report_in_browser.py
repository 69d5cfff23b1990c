"""The HTML report in a real browser: headless Chromium loads it from disk with the network off.

Checks (the report's acceptance test): every ``<img>`` loaded (complete, natural width > 0), no
console error, uncaught exception or failed request occurred, and a full-page screenshot is not
blank. The browser is Debian's ``chromium`` (installed by ``scripts/ensure-chromium.sh``); the test
skips, saying so, only when no Chromium binary is on PATH.

The harness below is a small client of the Chrome DevTools protocol written on the standard
library (one websocket; no extra package): Chromium starts with a fresh profile, no background
networking and a remote-debugging port; the page is loaded from ``file://``; console events are
collected while it loads; the page is asked for every image's load state; a PNG screenshot of the
full page is taken.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: Flags for a quiet, offline, sandbox-less headless browser (CI runs as root in a container).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    """What loading a page produced."""

    images: list = field(default_factory=list)  # [{"src": ..., "complete": bool, "width": int}]
    console_errors: list = field(default_factory=list)
    screenshot_png: bytes = b""
    title: str = ""


class _WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, client masking."""

    def __init__(self, url: str, timeout: float):
        assert url.startswith("ws://")
        host_port, _, path = url[5:].partition("/")
        host, _, port = host_port.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {head[:200]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])  # FIN + text frame
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack(">H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", n)
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)  # server frames are not masked
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x9, 0xA):  # ping/pong: ignore
                continue
            message += data
            if b0 & 0x80:
                return message.decode()

    def close(self):
        self.sock.close()


class _DevTools:
    def __init__(self, ws: _WebSocket):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == mine:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(f"no {method} within {timeout} s")


def load_page(path: Path, *, width: int = 1200, height: int = 900, timeout: float = 60.0) -> PageReport:
    """Load ``path`` in headless Chromium; return images' state, console errors and a screenshot."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium not found")
    profile = tempfile.mkdtemp(prefix="scalinglab-chromium-")
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ws = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with code {proc.returncode} before listening")
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split("\n")[0])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as response:
            targets = json.loads(response.read())
        page = next(t for t in targets if t.get("type") == "page")
        ws = _WebSocket(page["webSocketDebuggerUrl"], timeout=timeout)
        cdp = _DevTools(ws)
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.call(f"{domain}.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                 deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url=Path(path).resolve().as_uri())
        cdp.wait_for("Page.loadEventFired", timeout)
        result = cdp.call("Runtime.evaluate", returnByValue=True, expression=(
            "JSON.stringify({title: document.title, images: Array.from(document.images).map("
            "i => ({src: i.src.slice(0, 64), complete: i.complete, width: i.naturalWidth,"
            " height: i.naturalHeight}))})"))
        state = json.loads(result["result"]["value"])
        shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        report = PageReport(images=state["images"], title=state["title"],
                            screenshot_png=base64.b64decode(shot["data"]))
        for event in cdp.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                      for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                report.console_errors.append(details.get("exception", {}).get("description")
                                             or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                report.console_errors.append(params["entry"].get("text", "error"))
            elif method == "Network.loadingFailed":
                report.console_errors.append(f"request failed: {params.get('errorText')}")
        return report
    finally:
        if ws is not None:
            ws.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def ink_fraction(png: bytes) -> float:
    """Fraction of pixels that differ from the page background (the median colour) by > 2%."""
    import io

    import numpy as np
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])[:, :3]
    background = np.median(flat, axis=0)
    return float(np.any(np.abs(flat - background) > 0.02, axis=1).mean())


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------
needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium not installed (run scripts/ensure-chromium.sh as root, or apt-get install chromium)")


def _check_page(path, expected_images):
    page = load_page(path)
    assert len(page.images) == expected_images
    broken = [img["src"] for img in page.images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert page.console_errors == []
    ink = ink_fraction(page.screenshot_png)
    assert ink > 0.05, f"screenshot is nearly blank ({ink:.1%} of pixels differ from the background)"
    return page


@needs_chromium
def test_harness_catches_a_broken_page(tmp_path):
    # The check must be able to fail: a missing image and a script error are both reported.
    page_path = tmp_path / "broken.html"
    page_path.write_text("<!DOCTYPE html><html><head><title>t</title></head><body><h1>x</h1>"
                         "<img src='missing.png'><script>console.error('boom'); nosuch();</script>"
                         "</body></html>")
    page = load_page(page_path)
    assert page.images and page.images[0]["width"] == 0
    assert any("boom" in e for e in page.console_errors)
    assert any("nosuch" in e for e in page.console_errors)
    assert ink_fraction(page.screenshot_png) < 0.05


def _tracked_runs_with_curves():
    """12 runs on Hoffmann's rounded law (0.5% noise) with 8-point training curves."""
    from scalinglab.laws.registry import get_law

    law = get_law("hoffmann2022")
    rng = np.random.default_rng(11)
    runs, curves = [], []
    for n in (1e7, 3e7, 1e8, 3e8):
        for ratio in (5, 20, 80):
            d = ratio * n
            final = float(law.predict(n, d) * np.exp(rng.normal(0, 0.005)))
            rid = f"n{n:.0e}-r{ratio}"
            runs.append({"run_id": rid, "params": n, "tokens": d, "flops": 6 * n * d, "loss": final})
            for k in range(1, 9):
                t = d * k / 8
                curves.append({"run_id": rid, "step": 100 * k, "tokens": t, "flops": 6 * n * t,
                               "loss": final + float(law.predict(n, t) - law.predict(n, d))})
    return pd.DataFrame(runs), pd.DataFrame(curves)


@needs_chromium
def test_report_renders_in_chromium(tmp_path):
    from scalinglab.io import RunTable
    from scalinglab.report import ReportSettings, build_report

    runs, curves = _tracked_runs_with_curves()
    report = build_report(RunTable(runs=runs, curves=curves, source="synthetic runs"),
                          ReportSettings(bootstrap=8, compute=1e21))
    assert "training_curves" in report.figures
    path = report.write(tmp_path / "report.html")
    page = _check_page(path, expected_images=len(report.figures))
    assert page.title.startswith("Scaling-law report")


@needs_chromium
@pytest.mark.slow
def test_report_of_a_real_sweep_renders_in_chromium(tmp_path):
    """The acceptance path end to end: train a small IsoFLOP sweep, `scalinglab report` it, open it.

    Slow (trains 9 tiny models, ~1 min on 2 cores): run with ``pytest -m slow``.
    """

    from scalinglab.cli import main
    from scalinglab.sweep.design import isoflop_design
    from scalinglab.sweep.hyperparams import HyperparameterRule
    from scalinglab.sweep.runner import run_sweep

    design = isoflop_design([1e11, 3e11, 1e12], sizes_per_budget=3, ctx=64, device="cpu",
                            eval_tokens=8192, rule=HyperparameterRule(min_steps=60))
    outcome = run_sweep(design, tmp_path / "sweep", executor="local", workers=2)
    assert not outcome.failed
    out = tmp_path / "report.html"
    code = main(["report", str(tmp_path / "sweep"), "-o", str(out), "--bootstrap", "50", "--json"])
    assert code == 0
    page = _check_page(out, expected_images=out.read_text().count("<img "))
    assert len(page.images) >= 6
    assert page.title.startswith("Scaling-law report: sweep folder")
