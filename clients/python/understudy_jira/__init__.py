"""Understudy, a local stand-in for Jira Cloud's REST API, for Python tests.

    from understudy_jira import Understudy

    with Understudy.start() as site:            # the demo site on a free 127.0.0.1 port, in memory
        requests.get(f"{site.base_url}/rest/api/3/myself", auth=("ada@example.com", "ada-demo-token"))

The pytest plugin in this package (`understudy_jira.pytest_plugin`, registered by the wheel) gives
the `understudy` and `understudy_site` fixtures.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

__version__ = "0.3.0"
__all__ = ["Understudy", "UnderstudyError", "binary_path", "__version__"]

_HERE = pathlib.Path(__file__).resolve().parent


class UnderstudyError(Exception):
    """A control-API call Understudy refused, with its explanation."""

    def __init__(self, method: str, path: str, status: int, body: str, explanation: Optional[str]):
        super().__init__(f"{method} {path} answered {status}: {explanation or body}")
        self.status = status
        self.body = body
        self.explanation = explanation


def binary_path(explicit: Optional[str] = None) -> str:
    """The understudy executable: `explicit`, else $UNDERSTUDY_BINARY, else the one in this package,
    else `understudy` on PATH."""
    for named in (explicit, os.environ.get("UNDERSTUDY_BINARY")):
        if named:
            if not os.path.exists(named):
                raise FileNotFoundError(f"The understudy binary {named} does not exist.")
            return named
    bundled = _HERE / "bin" / "understudy"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("understudy")
    if found and pathlib.Path(found).resolve() != pathlib.Path(__file__).resolve():
        return found
    raise FileNotFoundError(
        "No understudy binary: this installation has none bundled; set UNDERSTUDY_BINARY to one.")


class Understudy:
    """A running `understudy serve`: its URLs, its control API, and how to stop it."""

    def __init__(self, process: subprocess.Popen, base_url: str, cloud_id: str, control_token: str,
                 output: "collections.deque[str]"):
        self.process = process
        self.base_url = base_url
        self.cloud_id = cloud_id
        self.control_token = control_token
        self._output = output

    # Starting and stopping

    @classmethod
    def start(cls, seed: Optional[str] = None, database: str = ":memory:", binary: Optional[str] = None,
              port: int = 0, args: tuple[str, ...] = (), start_timeout: float = 30.0) -> "Understudy":
        """Starts a server on 127.0.0.1 (a free port by default) over `database`, seeded from the
        site file `seed` or, without one, the demo site; returns once it listens."""
        token = secrets.token_hex(16)
        command = [binary_path(binary), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--database", database, "--control-token", token, *args]
        if seed:
            command += ["--seed", str(seed)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   bufsize=1)
        # The last lines the server printed, for errors: bounded, however long the session runs.
        output: collections.deque[str] = collections.deque(maxlen=2000)
        found: dict[str, str] = {}
        ready = threading.Event()

        def read():
            for line in process.stdout:
                output.append(line)
                site = re.match(r"Site cloudId ([0-9a-f-]+);", line)
                if site:
                    found["cloud_id"] = site.group(1)
                listening = re.match(r"Understudy is listening on (\S+)", line)
                if listening:
                    found["base_url"] = listening.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, name="understudy-output", daemon=True).start()
        ready.wait(start_timeout)
        if "base_url" not in found:
            process.kill()
            process.wait(5)
            raise RuntimeError("Understudy did not start. Its output:\n" + "".join(output))
        return cls(process, found["base_url"], found.get("cloud_id", ""), token, output)

    def stop(self, grace: float = 5.0) -> None:
        """Stops the server gracefully (SIGTERM; SIGKILL after `grace` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> "Understudy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def output(self) -> str:
        """The last 2,000 lines the server printed."""
        return "".join(self._output)

    @property
    def gateway_url(self) -> str:
        """The API gateway, where OAuth 2.0 apps and Forge remotes call."""
        return f"{self.base_url}/ex/jira/{self.cloud_id}"

    # The control API

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Calls `/_understudy/{path}`; returns the parsed JSON answer (None for an empty one)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_understudy/{path.lstrip('/')}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.control_token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            raise UnderstudyError(method, path, error.code, text, error.headers.get("X-Understudy-Explain")) from None
        return json.loads(text) if text else None

    def reset(self) -> dict:
        """Puts the site back as it was when the server started."""
        return self.control("POST", "reset")

    def journal(self, **filters: Any) -> list[dict]:
        """The request journal, newest first; filters: path (a prefix), caller, status, limit."""
        query = urllib.parse.urlencode({key: str(value) for key, value in filters.items() if value is not None})
        return self.control("GET", "requests" + (f"?{query}" if query else ""))["requests"]

    def clear_journal(self) -> None:
        self.control("DELETE", "requests")

    def fault(self, **rule: Any) -> dict:
        """Adds a fault rule, e.g. fault(path="/rest/api/3/user/properties/*", status=429, times=1)."""
        renamed = {_camel(key): value for key, value in rule.items()}
        return self.control("POST", "faults", renamed)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def clock(self, offset_seconds: float) -> dict:
        """Moves the site clock `offset_seconds` from the real time (0 puts it back)."""
        return self.control("PUT", "clock", {"offsetSeconds": offset_seconds})

    def snapshot(self) -> dict:
        """The whole site as a site file."""
        return self.control("GET", "snapshot")

    def oauth_tokens(self, client_id: str, account_id: str, scopes: list[str]) -> dict:
        """What the token endpoint would answer after the user consented (no consent page)."""
        return self.control("POST", "oauth/tokens", {"clientId": client_id, "accountId": account_id, "scopes": scopes})

    def forge_token(self, app_id: str, account_id: Optional[str] = None) -> str:
        """An app system token, or with `account_id` an app user token, of a Forge app."""
        body = {"appId": app_id} if account_id is None else {"appId": app_id, "accountId": account_id}
        return self.control("POST", "forge/tokens", body)["token"]

    def install_connect_app(self, descriptor_url: str, signing: str = "signed",
                            tamper: Optional[str] = None) -> dict:
        """Installs a Connect app from its descriptor as Jira does, calling its lifecycle URLs.

        Returns the result whatever became of it: `outcome` is `installed`, `incomplete` (the app
        refused `installed` or could not be reached), `rejected` (the descriptor could not be
        fetched or is invalid) or `tampered` (with `appRefused`); `calls` lists each lifecycle call.
        """
        body = {"descriptorUrl": descriptor_url, "signing": signing}
        if tamper is not None:
            body["tamper"] = tamper
        return self._install_result("POST", "connect/installations", body)

    def uninstall_connect_app(self, key: str) -> dict:
        """Calls the app's disabled and uninstalled URLs and marks it uninstalled."""
        return self._install_result("DELETE", f"connect/installations/{urllib.parse.quote(key, safe='')}")

    def session_cookie(self, account_id: str) -> str:
        """A signed-in session for a person of the site, as `name=value` for a `Cookie` header or a
        browser: the host pages (/plugins/servlet/ac/{appKey}/{moduleKey}, /forge/apps/{appId}/{moduleKey})
        open as that person. Sessions last 12 hours by the site clock."""
        return self.control("POST", "sessions", {"accountId": account_id})["cookie"]

    def _install_result(self, method: str, path: str, body: Any = None) -> dict:
        try:
            return self.control(method, path, body)
        except UnderstudyError as error:
            try:
                result = json.loads(error.body)
            except ValueError:
                raise error from None
            if isinstance(result, dict) and "outcome" in result:
                return result
            raise


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def wait_until_listening(url: str, timeout: float = 10.0) -> None:
    """Polls `{url}/status` until it answers (for servers started some other way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")
