"""The session check of tests/conftest.py: a run that changes a tracked file, or leaves a new file in the
checkout, is reported by name; work in progress from before the run is not. Checked on a scratch git
repository (never on this checkout), and the browser tests' screenshots go to a temporary folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tracked_files import changed, snapshot

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _repository(path: Path) -> Path:
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "tracked.txt").write_text("committed\n")
    (path / "wip.txt").write_text("committed\n")
    (path / ".gitignore").write_text("ignored/\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "start"], check=True)
    return path


def test_a_changed_tracked_file_and_a_new_file_are_named(tmp_path):
    root = _repository(tmp_path / "repo")
    (root / "wip.txt").write_text("edited before the run\n")  # the developer's own work in progress
    before = snapshot(root)
    (root / "tracked.txt").write_text("overwritten by a test\n")
    (root / "screenshot.png").write_bytes(b"\x89PNG")
    (root / "ignored").mkdir()
    (root / "ignored" / "cache.bin").write_bytes(b"ok")  # ignored files are fine
    assert changed(before, snapshot(root)) == ["screenshot.png", "tracked.txt"]


def test_work_in_progress_is_left_alone_until_the_run_changes_it(tmp_path):
    root = _repository(tmp_path / "repo")
    (root / "wip.txt").write_text("edited before the run\n")
    before = snapshot(root)
    assert changed(before, snapshot(root)) == []
    (root / "wip.txt").write_text("edited again, by a test\n")
    (root / "tracked.txt").unlink()
    assert changed(before, snapshot(root)) == ["tracked.txt", "wip.txt"]


def test_outside_a_checkout_nothing_is_checked(tmp_path):
    assert snapshot(tmp_path) is None and changed(None, {"a": "b"}) == []


def test_browser_screenshots_go_to_a_temporary_folder_unless_one_is_named(tmp_path, monkeypatch):
    from browser.conftest import screenshot_folder

    checkout = Path(__file__).resolve().parents[1]
    monkeypatch.delenv("GEMINI_MAGIC_SCREENSHOTS", raising=False)
    default = screenshot_folder(tmp_path / "session")
    assert default == tmp_path / "session" and checkout not in default.parents
    monkeypatch.setenv("GEMINI_MAGIC_SCREENSHOTS", str(tmp_path / "chosen"))
    assert screenshot_folder(tmp_path / "session") == tmp_path / "chosen"
