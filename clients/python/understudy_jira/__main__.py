"""`understudy …` / `python -m understudy_jira …`: the bundled understudy binary."""

import os
import sys

from . import binary_path


def main() -> None:
    binary = binary_path()
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
