#!/usr/bin/env python3
"""Interleaved A/B of two Understudy binaries on the same site: for a code change whose cost is
below the machine's drift between two full harness runs.

Both servers run at once, each on its own copy of one seeded SQLite file (with the same OAuth
tokens); each round measures, for A then B, GET /status and then each row, so that both binaries
see the same moments of the machine; the order alternates between rounds. Prints the median server CPU per request and ratio to /status
per row and binary.

    python3 Benchmarks/ab.py --a OLD/understudy --b NEW/understudy [--rounds 5] [--seconds 4]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile

import harness


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--users", type=int, default=2000)
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="understudy-ab-")
    servers = []
    try:
        site = os.path.join(work, "site.json")
        harness.site_file(site, options.users, harness.KEYS_PER_USER)
        database = os.path.join(work, "site.sqlite")
        subprocess.run([options.a, "seed", site, "--database", database], check=True, stdout=subprocess.DEVNULL)
        scripts = harness.write_scripts(work, options.users, harness.KEYS_PER_USER)
        minting = harness.Server(options.a, database)
        tokens = harness.oauth_tokens(minting.port, min(options.users, harness.OAUTH_USERS))
        minting.stop()
        scripts.update(harness.oauth_scripts(work, tokens, harness.KEYS_PER_USER))
        for name in ("a", "b"):
            shutil.copy(database, os.path.join(work, f"{name}.sqlite"))
        servers = {name: harness.Server(getattr(options, name), os.path.join(work, f"{name}.sqlite"))
                   for name in ("a", "b")}
        rows = {"GET property, Basic": scripts["get"], "GET property, JWT": scripts["jwt"],
                "GET /myself": scripts["myself"], "GET through the gateway, Bearer": scripts["gateway"]}
        for server in servers.values():
            for script in rows.values():
                harness.wrk(server.url, 32, 1, script)
        results = {(name, row): [] for name in servers for row in rows}
        for round_number in range(options.rounds):
            # The order alternates, so that neither binary always runs right after the other.
            order = ["a", "b"] if round_number % 2 == 0 else ["b", "a"]
            for name, server in ((name, servers[name]) for name in order):
                pid = server.process.pid
                status = harness.wrk(server.url + "/status", 32, options.seconds, None, pid)
                for row, script in rows.items():
                    measured = harness.wrk(server.url, 32, options.seconds, script, pid)
                    results[(name, row)].append(
                        (measured["cpu_us"], measured["rps"] / status["rps"], status["cpu_us"] / measured["cpu_us"]))
            harness.log(f"round {round_number + 1} of {options.rounds} done")
        print("| row | A: CPU µs/req, ratio, CPU ratio | B: CPU µs/req, ratio, CPU ratio |")
        print("|---|---|---|")
        for row in rows:
            cells = []
            for name in ("a", "b"):
                values = results[(name, row)]
                cells.append(" / ".join(f"{statistics.median(v[i] for v in values):.{2 if i else 1}f}" for i in range(3)))
            print(f"| {row} | {cells[0]} | {cells[1]} |")
    finally:
        for server in (servers.values() if isinstance(servers, dict) else []):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
