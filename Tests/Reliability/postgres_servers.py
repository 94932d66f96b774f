#!/usr/bin/env python3
"""Several servers, one PostgreSQL database; and PostgreSQL restarted while they serve.

Needs the test cluster of `.ci/postgres start` (UNDERSTUDY_TEST_POSTGRES_URL, UNDERSTUDY_TEST_PG_CTL,
UNDERSTUDY_TEST_PG_DATA). On a fresh database it starts two `understudy serve` processes and checks:

1. a write through one server is read through the other at once, and a delete likewise;
2. 30 times, one new key PUT through both servers at the same instant: exactly one 201;
3. 8 writers spread over both servers: every acknowledged write is read back through both;
4. PostgreSQL stopped: every request is answered 503 with Jira's error body within 5 s (no hang),
   and /status still answers; PostgreSQL started again: service resumes by itself, data intact;
5. a wrong password or an unreachable server at start: one line on standard error, non-zero exit;
6. freshness: --trials times (10,000 by default), a PUT through A then a GET through B, one client,
   one after the other: B reads what A wrote every time;
7. users are cached in front of PostgreSQL: an API token created and an account deactivated (by
   another process, `understudy token create` / `seed`) are honoured by both servers within 1 s;
8. the connections carrying LISTEN are killed (pg_terminate_backend) and the user changed at once:
   no server serves the stale user afterwards, and caching resumes.
9. the pipelined connections that carry the property statements are killed under a load of writes
   and reads across both servers: a write may be answered 503 while they reconnect (a read is
   sent again), never with a wrong value or another status, and both servers serve again by
   themselves.

127.0.0.1 only; bounded (about a minute). Exits non-zero on any finding.

    python3 Tests/Reliability/postgres_servers.py --binary .build/debug/understudy
"""

import argparse
import concurrent.futures
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

from understudy_site import free_port, start

SITE = {"users": [{"accountId": "557058:pg", "emailAddress": "pg@example.com", "displayName": "PG",
                   "apiTokens": ["pg-token"], "groups": ["jira-software-users"]}]}
HEADERS = {"Authorization": "Basic " + base64.b64encode(b"pg@example.com:pg-token").decode(),
           "Content-Type": "application/json"}
findings = []


def finding(text):
    print("FINDING:", text)
    findings.append(text)


def call(port, method, key, value=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    path = f"/rest/api/3/user/properties/{key}?accountId=557058:pg"
    connection.request(method, path, body=None if value is None else json.dumps(value), headers=HEADERS)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def as_cluster_owner(arguments):
    if os.geteuid() == 0:
        arguments = ["runuser", "-u", "postgres", "--"] + arguments
    subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh_database(url):
    """A new, empty database on the test server; returns its URL."""
    parts = urllib.parse.urlsplit(url)
    name = "understudy_servers_" + uuid.uuid4().hex[:8]
    bin_dir = os.path.dirname(os.environ["UNDERSTUDY_TEST_PG_CTL"])
    environment = dict(os.environ, PGPASSWORD=urllib.parse.unquote(parts.password or ""))
    subprocess.run([os.path.join(bin_dir, "createdb"), "-h", parts.hostname, "-p", str(parts.port),
                    "-U", urllib.parse.unquote(parts.username), name], check=True, env=environment)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def two_servers_agree(port_a, port_b):
    status, _ = call(port_a, "PUT", "shared", {"from": "a"})
    status_read, body = call(port_b, "GET", "shared")
    if status != 201 or status_read != 200 or json.loads(body)["value"] != {"from": "a"}:
        finding(f"write through A ({status}) not read through B at once ({status_read} {body!r})")
    status, _ = call(port_b, "DELETE", "shared")
    status_read, _ = call(port_a, "GET", "shared")
    if status != 204 or status_read != 404:
        finding(f"delete through B ({status}) not seen through A ({status_read})")
    print("write and delete seen across servers at once")


def racing_creations(port_a, port_b, rounds=30):
    doubles = 0
    for round_number in range(rounds):
        barrier = threading.Barrier(2)
        statuses = []

        def put(port, value):
            barrier.wait()
            statuses.append(call(port, "PUT", f"race{round_number}", value)[0])

        threads = [threading.Thread(target=put, args=(port, n)) for n, port in enumerate((port_a, port_b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        if sorted(statuses) != [200, 201]:
            doubles += 1
            finding(f"round {round_number}: one new key PUT through both servers answered {sorted(statuses)}")
    print(f"{rounds} races of one new key through two servers: {rounds - doubles} with exactly one 201")


def no_lost_updates(port_a, port_b, writers=8, writes=60):
    acknowledged = {}

    def writer(index):
        key = f"writer{index}"
        for n in range(writes):
            port = (port_a, port_b)[(index + n) % 2]
            status, _ = call(port, "PUT", key, {"n": n})
            if status not in (200, 201):
                finding(f"{key}: PUT answered {status}")
                return
            acknowledged[key] = n

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    lost = 0
    for key, n in acknowledged.items():
        for port in (port_a, port_b):
            status, body = call(port, "GET", key)
            if status != 200 or json.loads(body)["value"] != {"n": n}:
                lost += 1
                finding(f"{key}: last acknowledged {n}, read {status} {body!r} through port {port}")
    print(f"{writers * writes} writes spread over both servers, {lost} lost")


def outage(port_a, port_b):
    call(port_a, "PUT", "survivor", {"kept": True})
    pg_ctl, data = os.environ["UNDERSTUDY_TEST_PG_CTL"], os.environ["UNDERSTUDY_TEST_PG_DATA"]
    as_cluster_owner([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"])
    slowest, answers = 0.0, []
    try:
        for n in range(6):
            started = time.monotonic()
            try:
                status, body = call((port_a, port_b)[n % 2], ("GET", "PUT")[n % 2], "survivor", {"n": n}, timeout=10)
            except (OSError, http.client.HTTPException) as error:
                finding(f"during the outage a request failed without an answer: {error!r}")
                continue
            elapsed = time.monotonic() - started
            slowest = max(slowest, elapsed)
            answers.append(status)
            if status != 503 or "errorMessages" not in json.loads(body or b"{}"):
                finding(f"during the outage: {status} {body!r}, expected 503 with Jira's error body")
            if elapsed > 5:
                finding(f"during the outage a request took {elapsed:.1f} s")
        connection = http.client.HTTPConnection("127.0.0.1", port_a, timeout=5)
        connection.request("GET", "/status")
        if connection.getresponse().status != 200:
            finding("/status did not answer 200 during the outage")
    finally:
        as_cluster_owner([pg_ctl, "-D", data, "-w", "-l", os.path.join(os.path.dirname(data), "server.log"),
                          "start"])
    print(f"PostgreSQL stopped: {len(answers)} requests answered {sorted(set(answers))}, slowest {slowest:.1f} s")
    started = time.monotonic()
    resumed = {}
    while time.monotonic() - started < 20 and len(resumed) < 2:
        for port in (port_a, port_b):
            if port not in resumed:
                status, body = call(port, "GET", "survivor")
                if status == 200:
                    resumed[port] = time.monotonic() - started
                    if json.loads(body)["value"] != {"kept": True}:
                        finding(f"after the restart the value read {body!r}")
        time.sleep(0.2)
    if len(resumed) < 2:
        finding("service did not resume within 20 s of PostgreSQL starting again")
    else:
        print(f"PostgreSQL started again: both servers served again after {max(resumed.values()):.1f} s")


def freshness(port_a, port_b, trials):
    stale = 0
    started = time.monotonic()
    for n in range(trials):
        writer, reader = (port_a, port_b) if n % 2 == 0 else (port_b, port_a)
        status, _ = call(writer, "PUT", "fresh", {"n": n})
        status_read, body = call(reader, "GET", "fresh")
        if status not in (200, 201) or status_read != 200 or json.loads(body)["value"] != {"n": n}:
            stale += 1
            if stale <= 5:
                finding(f"trial {n}: PUT through one server ({status}), GET through the other read {body!r}")
    elapsed = time.monotonic() - started
    print(f"{trials} PUT-then-GET trials across servers: {trials - stale} fresh ({100 * (trials - stale) / trials:.2f} %),"
          f" {elapsed:.1f} s")


def myself(port, token):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    credentials = base64.b64encode(f"pg@example.com:{token}".encode()).decode()
    connection.request("GET", "/rest/api/3/myself", headers={"Authorization": "Basic " + credentials})
    status = connection.getresponse().status
    connection.close()
    return status


def seed_active(binary, url, active):
    user = dict(SITE["users"][0], active=active)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as site_file:
        json.dump({"users": [user]}, site_file)
    subprocess.run([binary, "seed", site_file.name, "--database", url], check=True, capture_output=True)


def until(condition, limit=1.0):
    """Seconds until `condition()` holds, or None after `limit`."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if condition():
            return time.monotonic() - started
        time.sleep(0.005)
    return None


def cached_users_follow(binary, url, port_a, port_b):
    for port in (port_a, port_b):
        myself(port, "pg-token")  # both servers have the user cached now
    created = subprocess.run([binary, "token", "create", "--email", "pg@example.com", "--database", url],
                             check=True, capture_output=True, text=True).stdout
    token = next(word for word in created.split() if word.startswith("ATATT"))
    delays = []
    for port in (port_a, port_b):
        delay = until(lambda: myself(port, token) == 200)
        if delay is None:
            finding(f"a new API token was not honoured through port {port} within 1 s")
        delays.append(delay or 1.0)
    seed_active(binary, url, False)
    for port in (port_a, port_b):
        delay = until(lambda: myself(port, "pg-token") == 401)
        if delay is None:
            finding(f"a deactivated account still signed in through port {port} after 1 s")
        delays.append(delay or 1.0)
    seed_active(binary, url, True)
    for port in (port_a, port_b):
        if until(lambda: myself(port, "pg-token") == 200) is None:
            finding(f"a reactivated account was refused through port {port} after 1 s")
    print(f"new token and deactivation honoured by both servers after at most {1000 * max(delays):.0f} ms")


def terminate_connections(url, application_name):
    """Ends the servers' connections named `application_name` from the server side; how many."""
    parts = urllib.parse.urlsplit(url)
    psql = os.path.join(os.path.dirname(os.environ["UNDERSTUDY_TEST_PG_CTL"]), "psql")
    environment = dict(os.environ, PGPASSWORD=urllib.parse.unquote(parts.password or ""))
    return subprocess.run(
        [psql, "-h", parts.hostname, "-p", str(parts.port), "-U", urllib.parse.unquote(parts.username),
         "-d", parts.path.lstrip("/"), "-At", "-c",
         "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
         f"WHERE application_name = '{application_name}' AND datname = current_database()"],
        check=True, capture_output=True, text=True, env=environment).stdout.strip()


def listener_killed(binary, url, port_a, port_b):
    for port in (port_a, port_b):
        myself(port, "pg-token")
    killed = terminate_connections(url, "understudy-listen")
    if killed != "2":
        finding(f"expected to kill the 2 listening connections, killed {killed!r}")
    seed_active(binary, url, False)
    stale = 0
    checks = 0
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        for port in (port_a, port_b):
            checks += 1
            if myself(port, "pg-token") != 401:
                stale += 1
    if stale:
        finding(f"after the LISTEN connections were killed, {stale} of {checks} requests signed in a deactivated user")
    seed_active(binary, url, True)
    for port in (port_a, port_b):
        if until(lambda: myself(port, "pg-token") == 200, limit=5) is None:
            finding(f"port {port}: the reactivated account was refused 5 s after the LISTEN connection was killed")
    print(f"LISTEN connections killed ({killed}), the user deactivated at once: {checks - stale} of {checks} requests"
          " refused as they should, then served again")


def pipeline_killed(url, port_a, port_b, writers=4, seconds=3.0):
    """The property statements' pipelined connections ended by the server in the middle of a load:
    while they reconnect a write may be answered 503 (reads are sent again), never wrongly; then
    all are served."""
    stop = time.monotonic() + seconds
    counts = {"answered": 0, "unavailable": 0}
    lock = threading.Lock()

    def writer(index):
        key, n = f"killed{index}", 0
        while time.monotonic() < stop:
            n += 1
            port = (port_a, port_b)[n % 2]
            status, body = call(port, "PUT", key, {"n": n})
            if status == 503:
                with lock:
                    counts["unavailable"] += 1
                continue
            if status not in (200, 201):
                finding(f"{key}: PUT answered {status} {body!r} while the connections were killed")
                return
            status, body = call((port_a, port_b)[(n + 1) % 2], "GET", key)
            if status != 200 or json.loads(body)["value"] != {"n": n}:
                finding(f"{key}: wrote {n}, then read {status} {body!r} through the other server")
                return
            with lock:
                counts["answered"] += 2

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    killed = terminate_connections(url, "understudy")
    for thread in threads:
        thread.join(seconds + 20)
    if killed != "6":
        finding(f"expected to kill the 6 pipelined connections of two servers (2 for reads, 1 for writes each),"
                f" killed {killed!r}")
    for port in (port_a, port_b):
        if call(port, "PUT", "after-kill", {"ok": True})[0] not in (200, 201):
            finding(f"port {port}: no write served after the pipelined connections were killed")
    print(f"pipelined connections killed ({killed}) under {writers} writers: {counts['answered']} requests answered"
          f" right, {counts['unavailable']} writes answered 503 while they reconnected, no read refused, none wrong")


def bad_start(binary, url):
    parts = urllib.parse.urlsplit(url)
    wrong_password = urllib.parse.urlunsplit(
        (parts.scheme, f"{parts.username}:wrong@{parts.hostname}:{parts.port}", parts.path, "", ""))
    unreachable = urllib.parse.urlunsplit((parts.scheme, f"{parts.username}:x@127.0.0.1:1", parts.path, "", ""))
    for name, bad in (("wrong password", wrong_password), ("unreachable server", unreachable)):
        started = time.monotonic()
        run = subprocess.run([binary, "serve", "--port", str(free_port()), "--database", bad],
                             capture_output=True, text=True, timeout=30)
        lines = run.stderr.strip().splitlines()
        if run.returncode == 0 or len(lines) != 1 or not lines[0].startswith("understudy: error:") \
                or "wrong" in run.stderr:
            finding(f"{name}: exit {run.returncode}, standard error {run.stderr!r}")
        print(f"{name}: exit {run.returncode} after {time.monotonic() - started:.1f} s: {lines[-1] if lines else ''}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--trials", type=int, default=10_000)
    options = parser.parse_args()
    url = fresh_database(os.environ["UNDERSTUDY_TEST_POSTGRES_URL"])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as site_file:
        json.dump(SITE, site_file)
    seeded = subprocess.run([options.binary, "seed", site_file.name, "--database", url], check=True,
                            capture_output=True, text=True)
    password = urllib.parse.urlsplit(url).password
    if password and f":{password}@" in seeded.stdout + seeded.stderr:
        finding(f"seed printed the database password: {seeded.stdout!r}")
    port_a, port_b = free_port(), free_port()
    # Both start at once on a database neither has migrated: they must take turns, not fail.
    migrating = fresh_database(os.environ["UNDERSTUDY_TEST_POSTGRES_URL"])
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        racing = [pool.submit(start, options.binary, migrating, free_port()) for _ in range(2)]
        for future in racing:
            try:
                process = future.result()
                process.terminate()
                process.wait(15)
            except RuntimeError as error:
                finding(f"two servers starting at once on a new database: {error}")
    print("two servers started at once on an empty database: both migrated and served")
    server_a = start(options.binary, url, port_a)
    server_b = start(options.binary, url, port_b)
    try:
        two_servers_agree(port_a, port_b)
        racing_creations(port_a, port_b)
        no_lost_updates(port_a, port_b)
        freshness(port_a, port_b, options.trials)
        cached_users_follow(options.binary, url, port_a, port_b)
        listener_killed(options.binary, url, port_a, port_b)
        pipeline_killed(url, port_a, port_b)
        outage(port_a, port_b)
    finally:
        for server in (server_a, server_b):
            server.terminate()
            server.wait(15)
    bad_start(options.binary, url)
    print(f"{len(findings)} findings")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
