"""The console's Connect installs in a real browser: headless Chromium installs a Python Connect app
from its descriptor URL through the console's form, sees each lifecycle call's result, and uninstalls
it with the row's button — the app verifying every call as the frameworks do."""

import json
import subprocess
import time

from conftest import CONTROL_TOKEN
from connect_app import ConnectApp
from test_consent_browser import page_session
from test_console_browser import chromium


def test_install_and_uninstall_from_the_console(server, tmp_path):
    browser = chromium()
    user_data = tmp_path / "profile"
    console = f"{server}/_understudy/console?token={CONTROL_TOKEN}"
    with ConnectApp("com.example.py-console", f"{server}/connect-install-keys") as app:
        process = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={user_data}", "--remote-debugging-port=0", console],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            socket, evaluate = page_session(user_data, deadline)

            def wait_for(expression):
                while time.time() < deadline:
                    value = evaluate(expression)
                    if value:
                        return value
                    time.sleep(0.1)
                raise TimeoutError(expression)

            wait_for("!!document.querySelector('form#install')")
            evaluate(f"""
                document.querySelector('form#install input[name=descriptorUrl]').value = {json.dumps(app.descriptor_url)};
                document.querySelector('form#install button').click();
            """)
            result = wait_for("document.querySelector('#install-result table.calls')?.innerText")
            assert "installed" in result and "204" in result and "RS256" in result, result
            assert "enabled" in result
            assert [e["event"] for e in app.events] == ["installed", "enabled"]
            assert all(e["status"] == 204 for e in app.events), [e.get("refusal") for e in app.events]

            evaluate("location.reload()")
            button = f"document.querySelector('button.uninstall[data-key=\"{app.key}\"]')"
            wait_for(f"!!{button}")
            assert app.key in evaluate("document.querySelector('#installations').innerText")
            evaluate(f"{button}.click()")
            result = wait_for("document.querySelector('#install-result')?.innerText.includes('uninstalled')")
            assert result
            assert [e["event"] for e in app.events][-2:] == ["disabled", "uninstalled"]
            journal = wait_for("document.querySelector('#journal').innerText.includes('(lifecycle)')")
            assert journal, "the journal shows Understudy's lifecycle calls"
            socket.close()
        finally:
            process.terminate()
            process.wait(timeout=20)
