#!/usr/bin/env python3
"""Durability under SIGKILL: nothing acknowledged is lost.

Writers PUT increasing values to many keys over SQLite (file, WAL) and record every acknowledged
answer; the server is killed with SIGKILL in the middle of the load and started again on the same
file; every key must then hold its last acknowledged value, or a later value whose answer was lost
with the process (a write may commit just before the kill). Repeated --rounds times; bounded in
time and count; talks to 127.0.0.1 only. Exits non-zero on any loss.

    python3 Tests/Reliability/durability.py --binary .build/debug/understudy [--rounds 3]
"""

import argparse
import base64
import http.client
import json
import signal
import sys
import threading
import time

from understudy_site import free_port, seeded_database, start

SITE = {"users": [{"accountId": "557058:writer", "emailAddress": "writer@example.com", "displayName": "Writer",
                   "apiTokens": ["writer-token"], "groups": ["jira-software-users"]}]}
AUTH = "Basic " + base64.b64encode(b"writer@example.com:writer-token").decode()


def writer(port, keys, acknowledged, attempted, stop, counts):
    """PUTs value n+1 after value n was acknowledged, round-robin over its keys."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    counter = 0
    write_until_stopped(connection, keys, acknowledged, attempted, stop, counter, counts)


def write_until_stopped(connection, keys, acknowledged, attempted, stop, counter, counts):
    while not stop.is_set():
        key = keys[counter % len(keys)]
        value = counter
        attempted[key] = value
        try:
            connection.request("PUT", f"/rest/api/3/user/properties/{key}?accountId=557058:writer",
                               body=json.dumps({"n": value}), headers={"Authorization": AUTH,
                                                                      "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            counts.append(counter)
            return
        if response.status not in (200, 201):
            raise RuntimeError(f"unexpected status {response.status}")
        acknowledged[key] = value
        counter += 1
    counts.append(counter)


def read_all(port, keys):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    values = {}
    for key in keys:
        connection.request("GET", f"/rest/api/3/user/properties/{key}?accountId=557058:writer",
                           headers={"Authorization": AUTH})
        response = connection.getresponse()
        body = response.read()
        values[key] = json.loads(body)["value"]["n"] if response.status == 200 else None
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--keys-per-writer", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=1.5, help="load before each SIGKILL")
    options = parser.parse_args()

    database = seeded_database(options.binary, SITE, "understudy-durability-")

    total_acknowledged = 0
    lost = []
    for round_number in range(1, options.rounds + 1):
        port = free_port()
        server = start(options.binary, database, port)
        stop = threading.Event()
        acknowledged, attempted, threads, counts = {}, {}, [], []
        all_keys = []
        for index in range(options.writers):
            keys = [f"r{round_number}-w{index}-k{k}" for k in range(options.keys_per_writer)]
            all_keys += keys
            thread = threading.Thread(target=writer, args=(port, keys, acknowledged, attempted, stop, counts),
                                      daemon=True)
            threads.append(thread)
            thread.start()
        time.sleep(options.seconds)
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

        port = free_port()
        server = start(options.binary, database, port)
        stored = read_all(port, all_keys)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

        for key, value in acknowledged.items():
            # The last acknowledged value, or the one in flight when the process died.
            if stored.get(key) not in (value, attempted.get(key)):
                lost.append((round_number, key, value, stored.get(key)))
        total_acknowledged += sum(counts)
        print(f"round {round_number}: {sum(counts)} writes acknowledged on {len(acknowledged)} keys before SIGKILL; "
              f"after restart {sum(1 for k in acknowledged if stored.get(k) is not None)} of them read back")

    if lost:
        print(f"LOST {len(lost)} acknowledged writes, e.g. {lost[:5]}", file=sys.stderr)
        sys.exit(1)
    print(f"durability: {options.rounds} SIGKILL rounds, {total_acknowledged} writes acknowledged, "
          f"every key holds its last acknowledged value (or the one in flight at the kill)")


if __name__ == "__main__":
    main()
