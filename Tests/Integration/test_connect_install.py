"""A Python Connect app, checking installs the way the common frameworks do (PyJWT with the
`cryptography` backend, `atlassian-jwt` for the qsh), installed into a real `understudy serve`:
through the CLI, with every tamper mode, in legacy mode, and through the UPM protocol driven the
way Atlassian Connect Express drives it."""

import json
import subprocess
import time
import urllib.parse

import requests
from atlassian_jwt import encode_token

from conftest import CONTROL_TOKEN, executable
from connect_app import ConnectApp

ADMIN = ("ada@example.com", "ada-token")


def cli(server, *arguments):
    return subprocess.run(
        [executable(), "app", *arguments, "--server", server, "--control-token", CONTROL_TOKEN],
        capture_output=True, text=True, timeout=60)


def call_jira_as(server, app_key, shared_secret, path):
    token = encode_token("GET", path, app_key, shared_secret)
    return requests.get(server + path, headers={"Authorization": f"JWT {token}"}, timeout=10)


def test_cli_install_is_verified_like_ace_and_the_app_can_call_jira(server):
    with ConnectApp("com.example.py-signed", f"{server}/connect-install-keys") as app:
        installed = cli(server, "install", app.descriptor_url)
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert "installed" in installed.stdout and "→ 204" in installed.stdout

        first, enabled = app.events
        assert first["event"] == "installed" and first["status"] == 204, first.get("refusal")
        verified = first["verified"]
        assert verified["alg"] == "RS256"
        assert verified["pem"].startswith("-----BEGIN PUBLIC KEY-----")
        claims = verified["claims"]
        assert claims["iss"] == first["body"]["clientKey"]
        assert claims["aud"] == [app.base_url]
        assert claims["exp"] - claims["iat"] == 900
        assert claims["sub"] == "557058:ada"
        assert first["body"]["baseUrl"] == server and first["body"]["productType"] == "jira"
        assert enabled["event"] == "enabled" and enabled["status"] == 204, enabled.get("refusal")
        assert "sharedSecret" not in enabled["body"]

        secret = first["body"]["sharedSecret"]
        answer = call_jira_as(server, app.key, secret, "/rest/api/3/myself")
        assert answer.status_code == 200, answer.headers.get("X-Understudy-Explain")
        assert answer.json()["accountType"] == "app"

        listing = requests.get(f"{server}/_understudy/connect/installations",
                               headers={"Authorization": f"Bearer {CONTROL_TOKEN}"}, timeout=10).json()
        assert listing["installKeyUrl"].endswith("/connect-install-keys/" + verified["kid"])
        assert any(i["key"] == app.key and i["state"] == "installed" for i in listing["installations"])

        removed = cli(server, "uninstall", app.key)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert [e["event"] for e in app.events[2:]] == ["disabled", "uninstalled"]
        assert all(e["status"] == 204 for e in app.events[2:]), [e.get("refusal") for e in app.events[2:]]
        refused = call_jira_as(server, app.key, secret, "/rest/api/3/myself")
        assert refused.status_code == 401
        assert "uninstalled" in refused.headers["X-Understudy-Explain"]


def test_every_tamper_mode_is_refused_by_a_careful_app(server):
    modes = ["expired", "wrong-audience", "wrong-qsh", "unknown-kid", "wrong-issuer", "symmetric", "unsigned",
             "context-qsh"]
    with ConnectApp("com.example.py-tamper", f"{server}/connect-install-keys") as app:
        for mode in modes:
            result = cli(server, "install", app.descriptor_url, "--tamper", mode, "--json")
            assert result.returncode == 0, f"{mode}: {result.stdout} {result.stderr}"
            answer = json.loads(result.stdout)
            assert answer["outcome"] == "tampered" and answer["appRefused"] is True, mode
            assert app.events[-1]["event"] == "installed" and app.events[-1]["status"] in (400, 401), mode
        refusals = {mode: event["refusal"] for mode, event in zip(modes, app.events)}
        assert "expired" in refusals["expired"]
        assert "audience" in refusals["wrong-audience"]
        assert "query hash" in refusals["wrong-qsh"] and "query hash" in refusals["context-qsh"]
        assert "Could not get public key" in refusals["unknown-kid"]
        assert "clientKey" in refusals["wrong-issuer"]
        assert "missing JWT" in refusals["symmetric"] and "missing JWT" in refusals["unsigned"]
        assert not app.clients, "no tampered install was stored"


def test_an_app_that_accepts_anything_is_caught(server):
    with ConnectApp("com.example.py-careless", f"{server}/connect-install-keys") as app:
        app.verify_signed = lambda token, body, path: {"alg": "trusting"}
        result = cli(server, "install", app.descriptor_url, "--tamper", "context-qsh")
        assert result.returncode == 3
        assert "should have refused" in result.stderr


def test_legacy_install_is_unsigned_first_then_signed_with_the_previous_secret(server):
    with ConnectApp("com.example.py-legacy", f"{server}/connect-install-keys", legacy=True) as app:
        assert cli(server, "install", app.descriptor_url, "--legacy").returncode == 0
        assert app.events[0]["token"] is None
        first_secret = app.events[0]["body"]["sharedSecret"]
        again = cli(server, "install", app.descriptor_url, "--legacy")
        assert again.returncode == 0, again.stdout + again.stderr
        reinstall = app.events[2]
        assert reinstall["event"] == "installed" and reinstall["status"] == 204, reinstall.get("refusal")
        assert reinstall["verified"]["alg"] == "HS256"
        assert reinstall["body"]["clientKey"] == app.events[0]["body"]["clientKey"]
        assert reinstall["body"]["sharedSecret"] != first_secret


def test_an_app_that_fails_its_install_is_incomplete(server):
    with ConnectApp("com.example.py-failing", f"{server}/connect-install-keys") as app:
        app.installed_status = 500
        result = cli(server, "install", app.descriptor_url)
        assert result.returncode == 3
        assert "incomplete" in result.stderr and "500" in result.stderr
        secret = app.events[0]["body"]["sharedSecret"]
        refused = call_jira_as(server, app.key, secret, "/rest/api/3/myself")
        assert refused.status_code == 401
        assert "incomplete" in refused.headers["X-Understudy-Explain"]


def test_the_upm_protocol_as_ace_drives_it(server):
    """ACE's register-jira-conf: GET for the upm-token, POST ?token=, poll links.self, DELETE {key}-key."""
    with ConnectApp("com.example.py-upm", f"{server}/connect-install-keys") as app:
        session = requests.Session()
        session.auth = ADMIN
        listing = session.get(f"{server}/rest/plugins/1.0/", timeout=10)
        assert listing.status_code == 200
        assert all(p["key"] != app.key for p in listing.json()["plugins"])
        token = listing.headers["upm-token"]

        started = session.post(
            f"{server}/rest/plugins/1.0/?token={urllib.parse.quote(token)}",
            data=json.dumps({"pluginUri": app.descriptor_url}),
            headers={"Content-Type": "application/vnd.atl.plugins.remote.install+json"}, timeout=10)
        assert started.status_code == 202
        task = urllib.parse.urljoin(server + "/", started.json()["links"]["self"])
        deadline = time.time() + 30
        while True:
            body = session.get(task, timeout=10).json()
            if "status" not in body:
                break
            assert not body["status"].get("done"), body["status"].get("errorMessage")
            assert time.time() < deadline, "Add-on installation timed out"
            time.sleep(started.json().get("pingAfter", 200) / 1000)
        assert body["key"] == app.key and body["enabled"] is True
        assert app.events[0]["status"] == 204, app.events[0].get("refusal")

        listed = session.get(f"{server}/rest/plugins/1.0/", timeout=10).json()["plugins"]
        assert any(p["key"] == app.key for p in listed)
        assert session.delete(f"{server}/rest/plugins/1.0/{app.key}-key", timeout=20).status_code == 204
        assert [e["event"] for e in app.events][-2:] == ["disabled", "uninstalled"]

        assert requests.get(f"{server}/rest/plugins/1.0/", auth=("bob@example.com", "bob-token"),
                            timeout=10).status_code == 403
        assert requests.get(f"{server}/rest/plugins/1.0/", timeout=10).status_code == 401
