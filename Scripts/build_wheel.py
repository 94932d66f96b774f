#!/usr/bin/env python3
"""Writes the `understudy-jira` wheel: the Python package in clients/python with the portable
understudy binary inside, tagged for the platform the binary runs on (manylinux for the newest glibc
symbol it uses). A wheel is a zip with a .dist-info folder; writing it here needs nothing from PyPI.

    python3 Scripts/build_wheel.py --binary dist/stage/understudy --version 0.3.0 --glibc 2.34 --out dist
"""

import argparse
import base64
import hashlib
import pathlib
import platform
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clients" / "python"
NAME = "understudy_jira"


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--glibc", required=True, help="the newest glibc version the binary needs, e.g. 2.34")
    parser.add_argument("--out", required=True)
    options = parser.parse_args()

    major, minor = options.glibc.split(".")[:2]
    tag = f"py3-none-manylinux_{major}_{minor}_{platform.machine()}"
    dist_info = f"{NAME}-{options.version}.dist-info"
    wheel = pathlib.Path(options.out) / f"{NAME}-{options.version}-{tag}.whl"
    wheel.parent.mkdir(parents=True, exist_ok=True)

    readme = (PACKAGE / "README.md").read_text()
    files: list[tuple[str, bytes, int]] = []
    for source in sorted((PACKAGE / NAME).glob("*")):
        if source.is_file() and source.suffix in (".py", ".typed"):
            files.append((f"{NAME}/{source.name}", source.read_bytes(), 0o644))
    files.append((f"{NAME}/bin/understudy", pathlib.Path(options.binary).read_bytes(), 0o755))
    files.append((f"{dist_info}/METADATA", (
        "Metadata-Version: 2.1\n"
        "Name: understudy-jira\n"
        f"Version: {options.version}\n"
        "Summary: Understudy, a local stand-in for Jira Cloud's REST API, with pytest fixtures.\n"
        "Requires-Python: >=3.9\n"
        "Classifier: Framework :: Pytest\n"
        "Classifier: Topic :: Software Development :: Testing\n"
        "Description-Content-Type: text/markdown\n\n" + readme).encode(), 0o644))
    files.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: understudy Scripts/build_wheel.py\nRoot-Is-Purelib: false\n"
        f"Tag: {tag}\n").encode(), 0o644))
    files.append((f"{dist_info}/entry_points.txt", (
        "[console_scripts]\nunderstudy = understudy_jira.__main__:main\n\n"
        "[pytest11]\nunderstudy = understudy_jira.pytest_plugin\n").encode(), 0o644))

    record = [record_line(path, data) for path, data, _ in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    print(wheel)


if __name__ == "__main__":
    main()
