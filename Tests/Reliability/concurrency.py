#!/usr/bin/env python3
"""Concurrency: many clients PUT and DELETE the same keys and different keys at once.

Checked for every key: no status other than the spec's (201, 200, 204, and 404 for deleting an
absent key), no request hangs (5 s timeout), and the answers are consistent with some serial order:
each creation (201) is undone by exactly one successful delete (204) except perhaps the last, so
  #201 - #204 == 1 if the key exists at the end, else 0,
and the value at the end is one that some PUT wrote. Bounded in time and count; 127.0.0.1 only.

    python3 Tests/Reliability/concurrency.py --binary .build/debug/understudy
"""

import argparse
import base64
import collections
import http.client
import json
import random
import signal
import sys
import threading
import time

from understudy_site import free_port, seeded_database, start

SITE = {"users": [{"accountId": "557058:c", "emailAddress": "c@example.com", "displayName": "C",
                   "apiTokens": ["c-token"], "groups": ["jira-software-users"]}]}
AUTH = {"Authorization": "Basic " + base64.b64encode(b"c@example.com:c-token").decode(),
        "Content-Type": "application/json"}
ALLOWED = {"PUT": {200, 201}, "DELETE": {204, 404}}


def client(port, keys, operations, seed, results, failures):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for n in range(operations):
        key = rng.choice(keys)
        method = "PUT" if rng.random() < 0.6 else "DELETE"
        value = f"{seed}-{n}"
        path = f"/rest/api/3/user/properties/{key}?accountId=557058:c"
        try:
            connection.request(method, path, body=json.dumps(value) if method == "PUT" else None, headers=AUTH)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{method} {key}: {error!r} (hung or dropped)")
            return
        if response.status not in ALLOWED[method]:
            failures.append(f"{method} {key}: unexpected {response.status}")
        results.append((key, method, response.status, value))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--operations", type=int, default=300, help="per client")
    options = parser.parse_args()

    database = seeded_database(options.binary, SITE, "understudy-concurrency-")
    port = free_port()
    server = start(options.binary, database, port)

    shared = [f"shared-{k}" for k in range(4)]
    results, failures, threads = [], [], []
    started = time.time()
    for index in range(options.clients):
        # Half the clients fight over four shared keys, the other half mostly use their own.
        keys = shared if index % 2 == 0 else [f"own-{index}-{k}" for k in range(3)] + shared[:1]
        thread = threading.Thread(target=client, args=(port, keys, options.operations, index, results, failures))
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.time() - started
    if any(thread.is_alive() for thread in threads):
        failures.append("a client did not finish within 60 s")

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    counts = collections.defaultdict(collections.Counter)
    written = collections.defaultdict(set)
    for key, method, status, value in results:
        counts[key][status] += 1
        if method == "PUT":
            written[key].add(value)
    for key in counts:
        connection.request("GET", f"/rest/api/3/user/properties/{key}?accountId=557058:c", headers=AUTH)
        response = connection.getresponse()
        body = response.read()
        exists = response.status == 200
        balance = counts[key][201] - counts[key][204]
        if balance != (1 if exists else 0):
            failures.append(f"{key}: {counts[key][201]} creations, {counts[key][204]} deletions, exists={exists}")
        if exists and json.loads(body)["value"] not in written[key]:
            failures.append(f"{key}: final value was never written")
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    if failures:
        print(f"{len(failures)} findings, e.g. {failures[:5]}", file=sys.stderr)
        sys.exit(1)
    print(f"concurrency: {len(results)} PUT/DELETE from {options.clients} clients on {len(counts)} keys in "
          f"{elapsed:.1f} s; every key's creations and deletions balance with its final state; no other status")


if __name__ == "__main__":
    main()
