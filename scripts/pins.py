"""Regenerate the pinned install files from the hand-kept lists, or check that they still match.

    python scripts/pins.py            # after editing requirements.in or requirements-dev.in
    python scripts/pins.py --upgrade  # take the newest releases the hand-kept ranges allow
    python scripts/pins.py --check    # CI: fails when a pinned file no longer matches its list

`requirements.txt` and `requirements-dev.txt` pin every package, transitive ones included, with `==`,
resolved by `uv pip compile` for Python 3.11 on x86-64 Linux (the Python that CI, the Dockerfile and the
Space run). The test set is resolved under the runtime pins, so both files agree on every shared
package. Without `--upgrade`, uv keeps each existing pin that still satisfies the lists (as pip-tools
does), so a re-run changes only what an edit of a list requires: that is what `--check` compares.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"
PLATFORM = "x86_64-manylinux_2_28"
# (hand-kept list, pinned file, extra arguments)
FILES = (
    ("requirements.in", "requirements.txt", ()),
    ("requirements-dev.in", "requirements-dev.txt", ("--constraint", "requirements.txt")),
)


def compile_pins(source: str, output: Path, extra: tuple[str, ...], upgrade: bool) -> None:
    command = [
        "uv", "pip", "compile", source, "--output-file", str(output),
        "--python-version", PYTHON, "--python-platform", PLATFORM,
        "--custom-compile-command", "python scripts/pins.py", "--quiet",
        *extra,
    ]  # fmt: skip
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, cwd=ROOT, check=True)


def check() -> int:
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, pinned, extra in FILES:
            fresh = Path(tmp) / pinned
            shutil.copyfile(ROOT / pinned, fresh)  # the current pins are uv's preferences
            compile_pins(source, fresh, extra, upgrade=False)
            before = (ROOT / pinned).read_text().splitlines()
            after = fresh.read_text().splitlines()
            if before != after:
                stale.append(pinned)
                sys.stdout.writelines(
                    line + "\n" for line in difflib.unified_diff(before, after, pinned, "fresh")
                )
    if stale:
        print(f"{', '.join(stale)} no longer match the hand-kept lists: run `python scripts/pins.py`.")
        return 1
    print("pinned files match requirements.in and requirements-dev.in")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--upgrade", action="store_true", help="take the newest allowed releases")
    args = parser.parse_args()
    if args.check:
        return check()
    for source, pinned, extra in FILES:
        compile_pins(source, ROOT / pinned, extra, upgrade=args.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
