"""pytest fixtures for Understudy (registered through the `pytest11` entry point).

- `understudy` (session scope): one server for the test session, on a free 127.0.0.1 port over an
  in-memory site, seeded from the `understudy_seed` ini option or `--understudy-seed` (a site file),
  or the demo site without one; stopped at the end of the session.
- `understudy_site` (function scope): the same server, reset before the test and its journal
  emptied, so each test starts from the seeded site.

When a test that used either fixture fails, the requests it made — method, path, caller, status and
Understudy's explanation — are added to its report, so a refused call explains itself in the CI log.
"""

from __future__ import annotations

import pytest

from . import Understudy

_SERVER_KEY = pytest.StashKey[Understudy]()
_JOURNAL_MARK = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("understudy", "Understudy, a local stand-in for Jira Cloud")
    group.addoption("--understudy-seed", dest="understudy_seed", default=None,
                    help="a site file (JSON) to load instead of the demo site")
    group.addoption("--understudy-binary", dest="understudy_binary", default=None,
                    help="the understudy executable (default: $UNDERSTUDY_BINARY or the bundled one)")
    parser.addini("understudy_seed", "a site file (JSON) to load instead of the demo site", default="")


def _seed(config: pytest.Config) -> str | None:
    given = config.getoption("understudy_seed") or config.getini("understudy_seed")
    if not given:
        return None
    path = config.rootpath / given if not str(given).startswith("/") else given
    return str(path)


@pytest.fixture(scope="session")
def understudy(request: pytest.FixtureRequest):
    """A running Understudy for the whole session."""
    config = request.config
    server = Understudy.start(seed=_seed(config), binary=config.getoption("understudy_binary"))
    config.stash[_SERVER_KEY] = server
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def understudy_site(understudy: Understudy) -> Understudy:
    """The session's Understudy, reset to the seeded site before this test."""
    understudy.reset()
    understudy.clear_faults()
    understudy.clock(0)
    return understudy


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    server = item.config.stash.get(_SERVER_KEY, None)
    if server is not None and _uses_understudy(item):
        newest = server.journal(limit=1)
        item.stash[_JOURNAL_MARK] = newest[0]["requestId"] if newest else ""
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or _JOURNAL_MARK not in item.stash:
        return
    server = item.config.stash.get(_SERVER_KEY, None)
    if server is None:
        return
    try:
        entries = server.journal(limit=200)
    except Exception as error:  # the server may be what failed
        report.sections.append(("Understudy journal", f"(unavailable: {error})"))
        return
    mark = item.stash[_JOURNAL_MARK]
    made = []
    for entry in entries:  # newest first, up to the last request before the test
        if entry["requestId"] == mark:
            break
        made.append(entry)
    report.sections.append(("Understudy journal", format_journal(list(reversed(made)))))


def _uses_understudy(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return "understudy" in names or "understudy_site" in names


def format_journal(entries: list[dict]) -> str:
    """The requests of one test, oldest first, each with its explanation."""
    if not entries:
        return "The test made no request to Understudy."
    lines = []
    for entry in entries:
        caller = entry["caller"]
        who = {
            "anonymous": "anonymous",
            "user": caller.get("accountId"),
            "app": f"{caller.get('appKey')} (Connect) as {caller.get('accountId')}",
            "oauth": f"{caller.get('clientId')} (OAuth) as {caller.get('accountId')}",
            "forge": f"{caller.get('appId')} (Forge) as {caller.get('accountId')}",
        }.get(caller["type"], caller["type"])
        lines.append(f"{entry['status']} {entry['method']} {entry['path']}  [{who}]  X-AREQUESTID {entry['requestId']}")
        if entry.get("explanation"):
            lines.append(f"    why: {entry['explanation']}")
    return "\n".join(lines)
