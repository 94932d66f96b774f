"""The pytest plugin of `understudy-jira` (clients/python), as a user's suite meets it: the example
suite in examples/python passes, and a failing test's report shows the requests it made with
Understudy's explanation."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples" / "python"


def run_pytest(folder, binary):
    try:
        import understudy_jira  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("understudy-jira must be installed in CI (pip install ./clients/python)")
        pytest.skip("understudy-jira is not installed (pip install ./clients/python)")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder,
                          env={**os.environ, "UNDERSTUDY_BINARY": binary}, capture_output=True, text=True,
                          timeout=300)


def executable():
    return os.environ.get("UNDERSTUDY_BIN", str(ROOT / ".build" / "debug" / "understudy"))


def test_the_example_suite_passes():
    result = run_pytest(EXAMPLES, executable())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "17 passed" in result.stdout


def test_a_failing_test_reports_its_requests_and_why():
    result = run_pytest(EXAMPLES / "failing", executable())
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout
    assert "Understudy journal" in report
    assert "403 PUT /rest/api/3/user/properties/theme?accountId=557058%3Aada  [557058:bob]" in report
    assert "why: Caller 557058:bob is not an administrator" in report
