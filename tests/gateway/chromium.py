"""Debian's headless Chromium for the docs-page tests: one-shot screenshots and DOM dumps from
the command line, and ``DevTools``, a small Chrome DevTools Protocol client over
``--remote-debugging-pipe`` (the standard library only) to click through a page.

Without chromium the tests skip (``apt-get install -y chromium``); under ``CI=true`` they fail.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.prerequisites import missing_prerequisite

#: Flags of every run: no sandbox (root in a container), no GPU, no first-run chores.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
)
TIMEOUT_SECONDS = 60.0


def chromium_or_skip() -> str:
    """The chromium executable; skips the test without one (fails under CI=true)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    missing_prerequisite("chromium is not installed: apt-get install -y chromium")


def run_chromium(chromium: str, profile: Path, url: str, *flags: str) -> str:
    """Run chromium once on ``url`` (``--dump-dom``, ``--screenshot=...``); its stdout."""
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *flags, url]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class DevTools:
    """One headless browser driven over the DevTools pipe: the browser reads NUL-terminated
    JSON commands on its fd 3 and writes replies and events on its fd 4."""

    def __init__(self, chromium: str, profile: Path, window: str = "1280,2000") -> None:
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()
        # Above 9, so that bash's 3<&R 4>&W cannot overwrite one with the other.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
        for fd in (to_browser, from_browser):
            os.close(fd)
        command = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={window}"]
        wiring = f'exec "$@" 3<&{high[0]} 4>&{high[1]}'
        self.process = subprocess.Popen(
            ["bash", "-c", wiring, "chromium", *command, "--remote-debugging-pipe", "about:blank"],
            pass_fds=high,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in high:
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None  # commands go to the browser until one is attached
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
        self._session = attached["sessionId"]

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command (to the page once attached) and wait for its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session is not None:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        reply: dict[str, Any] = json.loads(raw)
        return reply

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 20.0) -> Any:
        """The first truthy value of ``expression``, polled; ``TimeoutError`` naming ``what``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"the page never showed {what}")

    def screenshot(self, path: Path) -> Path:
        """A PNG of what the window shows."""
        data = self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        """Stop the browser."""
        os.close(self._out)
        os.close(self._in)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
