"""A check that a test run leaves the checkout as it found it: no tracked file changed, no new file.

`snapshot(root)` records, for every file `git status --porcelain` lists (modified tracked files and
untracked files that are not ignored), a hash of its content; `changed(before, after)` names the files
whose entry appeared or whose content changed between two snapshots. Work in progress that was already
there when the run started is left alone; only what the run itself did is reported. Outside a git
checkout (or without git) a snapshot is None and nothing is checked.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path


def snapshot(root: Path) -> dict[str, str] | None:
    """{path: sha256 of its content (or "deleted")} for each file git lists as changed or new; None outside git."""
    if shutil.which("git") is None:
        return None
    try:
        listed = subprocess.run(["git", "-C", str(root), "status", "--porcelain=v1", "-z", "--untracked-files=all"],
                                capture_output=True, check=True, timeout=30).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return None
    state = {}
    entries = listed.decode("utf-8", "surrogateescape").split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":  # a rename lists its source next: skip it
            index += 1
        path = entry[3:]
        file = root / path
        state[path] = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "deleted"
    return state


def changed(before: dict[str, str] | None, after: dict[str, str] | None) -> list[str]:
    """The paths whose git status entry appeared, or whose content changed, from `before` to `after`."""
    if before is None or after is None:
        return []
    return sorted(path for path, digest in after.items() if before.get(path) != digest)
