#!/usr/bin/env python3
"""Spec-driven fuzzing of the HTTP surface: schemathesis against Understudy's own OpenAPI document.

Starts `understudy serve` on the demo site (an empty SQLite file), then runs schemathesis with
every check (server errors, undocumented status codes, content types, response schemas, negative
and positive data, deleted-then-read, unsupported methods, ignored auth, stateful sequences) on
/_understudy/openapi.json. App-property requests are signed per request as the demo Connect app;
Jira's resources use the demo administrator's Basic credentials (schemathesis_hooks.py).
Bounded by --max-examples and a time limit; 127.0.0.1 only. Exits with schemathesis's status.

    python3 Tests/Reliability/openapi_fuzz.py --binary .build/debug/understudy [--max-examples 50]
"""

import argparse
import os
import subprocess
import sys
import tempfile

from understudy_site import free_port, start

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--time-limit", type=int, default=300, help="seconds")
    options = parser.parse_args()

    database = os.path.join(tempfile.mkdtemp(prefix="understudy-openapi-"), "site.sqlite")
    port = free_port()
    server = start(options.binary, database, port)
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    environment = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=HERE,
                       UNDERSTUDY_BASE_URL=f"http://127.0.0.1:{port}")
    try:
        run = subprocess.run(
            [schemathesis, "--config-file", os.path.join(HERE, "schemathesis.toml"), "run",
             f"http://127.0.0.1:{port}/_understudy/openapi.json", "--checks", "all",
             "--max-examples", str(options.max_examples), "--seed", str(options.seed),
             "--workers", "1", "--no-color"],
            cwd=HERE, env=environment, timeout=options.time_limit)
        status = run.returncode
    finally:
        server.terminate()
        server.wait(10)
    if server.returncode != 0:
        print(f"the server exited with {server.returncode} on SIGTERM")
        status = status or 1
    sys.exit(status)


if __name__ == "__main__":
    main()
