"""Starts a real `understudy serve` process for the third-party client tests."""

import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

CLOUD_ID = "5d3f2a10-7b6c-4e1d-8f9a-0b1c2d3e4f50"
OAUTH_CLIENT_ID = "integration-client"
OAUTH_CLIENT_SECRET = "integration-client-secret"
OAUTH_CALLBACK = "http://localhost:8765/callback"
FORGE_APP_ID = "ari:cloud:ecosystem::app/2b7e1c3d-4f5a-4b6c-9d8e-7f6a5b4c3d2e"
FORGE_INSTALLATION_ID = "ari:cloud:ecosystem::installation/2b7e1c3d-4f5a-4b6c-9d8e-7f6a5b4c3d2e"

SITE = {
    "site": {"cloudId": CLOUD_ID, "name": "Integration site"},
    "users": [
        {"accountId": "557058:ada", "emailAddress": "ada@example.com", "displayName": "Ada Admin",
         "apiTokens": ["ada-token", {"token": "ada-scoped-token", "scopes": ["read:jira-user", "write:jira-work"]}],
         "groups": ["site-admins", "jira-software-users"]},
        {"accountId": "557058:bob", "emailAddress": "bob@example.com", "displayName": "Bob",
         "apiTokens": ["bob-token"], "groups": ["jira-software-users"],
         "legacyProperties": {"slackhandle": "@bob"}},
        {"accountId": "557058:cara", "emailAddress": "cara@example.com", "displayName": "Cara",
         "apiTokens": ["cara-token"], "groups": []},
    ],
    "apps": [
        {"key": "com.example.tour", "name": "Product Tour", "clientKey": "jira:tour",
         "sharedSecret": "tour-shared-secret-0123456789abcdef", "scopes": ["READ", "WRITE", "DELETE"],
         "accountId": "557058:app-tour"},
    ],
    "oauthApps": [
        {"clientId": OAUTH_CLIENT_ID, "clientSecret": OAUTH_CLIENT_SECRET, "name": "Integration OAuth app",
         "callbackUrls": [OAUTH_CALLBACK],
         "scopes": ["read:jira-user", "write:jira-work", "read:me", "offline_access"]},
    ],
    "forgeApps": [
        {"appId": FORGE_APP_ID, "name": "Integration Forge app", "scopes": ["read:jira-user", "write:jira-work"],
         "connectKey": "com.example.tour"},
    ],
}


CONTROL_TOKEN = "integration-control-token"


def executable() -> str:
    return os.environ.get("UNDERSTUDY_BIN", str(ROOT / ".build" / "debug" / "understudy"))


@pytest.fixture(scope="session")
def server():
    """A server on a free port over an SQLite file, stopped with SIGTERM at the end."""
    with tempfile.TemporaryDirectory() as directory:
        site = pathlib.Path(directory) / "site.json"
        site.write_text(json.dumps(SITE))
        log = open(pathlib.Path(directory) / "server.log", "w")
        process = subprocess.Popen(
            [executable(), "serve", "--port", "0", "--database", str(pathlib.Path(directory) / "site.sqlite"),
             "--seed", str(site), "--control-token", CONTROL_TOKEN],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=directory)
        url = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("Understudy is listening on "):
                url = line.split(" on ", 1)[1].strip()
                break
        if url is None:
            process.kill()
            raise RuntimeError("understudy did not start")
        try:
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0, "the server stops cleanly on SIGTERM"
            log.close()
            server_log = (pathlib.Path(directory) / "server.log").read_text()
            for secret in ("ada-token", "bob-token", "cara-token", "tour-shared-secret", OAUTH_CLIENT_SECRET):
                assert secret not in server_log, f"the log must not contain {secret}"
