"""What the reliability scripts share: a seeded SQLite site and a server started on a free port."""

import json
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seeded_database(binary, site, prefix):
    """A new SQLite file in a temporary folder, loaded with `site` (a site-file dictionary)."""
    directory = tempfile.mkdtemp(prefix=prefix)
    database = os.path.join(directory, "site.sqlite")
    site_file = os.path.join(directory, "site.json")
    with open(site_file, "w") as file:
        json.dump(site, file)
    subprocess.run([binary, "seed", site_file, "--database", database], check=True, stdout=subprocess.DEVNULL)
    return database


def start(binary, database, port, extra_arguments=()):
    """`understudy serve` on `port`, returned once it says it listens (at most 30 s)."""
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--database", database, "--log-level", "error",
                                *extra_arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = process.stdout.readline()
        if line.startswith("Understudy is listening on "):
            return process
        if not line:
            break
    process.kill()
    raise RuntimeError("the server did not start")
