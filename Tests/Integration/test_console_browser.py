"""The console in a real browser: headless Chromium opens it with the control token, and the page
shows a property written through the API and a refused request with its explanation."""

import os
import pathlib
import shutil
import subprocess

import pytest
import requests

from conftest import CONTROL_TOKEN, FORGE_INSTALLATION_ID, ROOT

ADA = ("ada@example.com", "ada-token")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI (apt-get install chromium)")
    pytest.skip("Chromium is not installed")


def test_console_shows_a_real_session(server, tmp_path):
    browser = chromium()
    target = f"{server}/rest/api/3/user/properties/console.demo?accountId=557058:ada"
    assert requests.put(target, json={"seen": "in the console"}, auth=ADA).status_code in (200, 201)
    refused = requests.post(target, json={}, auth=ADA)
    assert refused.status_code == 405
    forge = requests.get(f"{server}/jira/rest/api/3/myself",
                         headers={"forge-proxy-authorization": f"Forge as=app,installationId={FORGE_INSTALLATION_ID}"})
    assert forge.status_code == 200

    url = f"{server}/_understudy/console?token={CONTROL_TOKEN}"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert "Ada Admin" in dom, dom[:500]
    assert "console.demo" in dom, "the property written through the API is on the page"
    assert "in the console" in dom
    assert "POST is not an operation of this resource" in dom, "the refused request's explanation is in the journal"
    assert "Integration Forge app" in dom, "the Forge app is listed"
    assert "(Forge) as" in dom, "the journal names the Forge caller"
    assert CONTROL_TOKEN not in dom, "the token is not on the page"

    screenshot = ROOT / ".build" / "console-screenshot.png"
    screenshot.parent.mkdir(exist_ok=True)
    subprocess.run(common + ["--window-size=1500,1200", f"--screenshot={screenshot}", url],
                   capture_output=True, timeout=120, cwd=tmp_path)
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, "a screenshot was saved"
    print(f"console screenshot: {screenshot}")
