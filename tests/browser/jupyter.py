"""A harness for browser tests: the emulator, a Jupyter server and headless Chromium, plus page helpers.

Everything runs over loopback. The emulator and the Jupyter server are subprocesses in their own
process groups, killed as groups when their context ends; the server is isolated from the machine's
Jupyter configuration (config, runtime, data, IPython, workspaces and settings directories all live
in a temporary folder). One `jupyter lab` serves both JupyterLab (`/lab/tree/...`) and Notebook 7
(`/notebooks/...`) because the `notebook` package registers its server extension system-wide.

    with start_emulator(pace=0.08) as base_url, start_jupyter(root, base_url) as server:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            write_notebook(root / "demo.ipynb", ["%load_ext gemini_magic", "%%gemini\\nHello"])
            open_notebook(page, server, "lab", "demo.ipynb")
            wait_for_kernel_idle(page, "lab")
            run_cell(page, 0)
            wait_for_prompt(page, 0, 1)

Chromium and Playwright are optional: `require_browser_tools()` skips when either is missing, and
fails instead when the `CI` environment variable is set (CI installs them, so absence is a fault).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GEMINI_MAGIC_CHROMIUM", "/usr/bin/chromium")
# Without the networking flags Chromium tries to reach the internet at every start.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--no-proxy-server"]
SERVER_START_TIMEOUT = 60.0
KERNEL_TIMEOUT = 60.0
APPS = ("lab", "notebook")

# The status bar text once the kernel is connected and idle (the toolbar says "idle" earlier, and a
# Shift+Enter sent before the connection is silently lost).
LAB_KERNEL_IDLE = "Python 3 (ipykernel) | Idle"


# -- availability -------------------------------------------------------------------------------

def missing_browser_tools() -> str | None:
    """Why browser tests cannot run here, or None when Playwright, Chromium and JupyterLab are present."""
    for module, extra in (("playwright.sync_api", "playwright"), ("jupyterlab", "jupyterlab"),
                          ("notebook", "notebook"), ("ipywidgets", "ipywidgets"), ("ipykernel", "ipykernel")):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not importable: pip install '.[browser]' (or {extra})"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set GEMINI_MAGIC_CHROMIUM); "
                "never `playwright install`")
    return None


def require_browser_tools() -> None:
    """Skip the calling test when the tools are missing; fail instead under CI, which installs them."""
    reason = missing_browser_tools()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests need Playwright and Chromium: {reason}")


# -- processes ----------------------------------------------------------------------------------

def free_port() -> int:
    """A port free on 127.0.0.1 right now (Jupyter needs a fixed one; port_retries=0 makes a clash loud)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # A child that outlived the leader: kill whatever is left in the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)


def _no_proxy_opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@contextlib.contextmanager
def start_emulator(pace: float = 0.08, timeout: float = 30.0):
    """Run `python -m gemini_emulator` on a free port; yields its base URL."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "gemini_emulator", "--port", "0", "--pace", str(pace)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        base_url = None
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                base_url = match.group(1)
                break
        if base_url is None:
            raise RuntimeError(f"the emulator did not start (exit {process.poll()}):\n{''.join(seen)}")
        # Keep draining its output so a full pipe never blocks it.
        _drain(process.stdout)
        yield base_url
    finally:
        _stop_group(process)


def _drain(stream) -> None:
    """Read `stream` to its end in a daemon thread."""
    def read_all():
        for _ in stream:
            pass

    threading.Thread(target=read_all, daemon=True).start()


@dataclass
class JupyterServer:
    """A running Jupyter server: where it listens, its token, the folder it serves and its log file."""

    url: str
    token: str
    root: Path
    log: Path

    def page_url(self, app: str, path: str) -> str:
        """`/lab/tree/<path>?reset` (a fresh workspace) for JupyterLab, `/notebooks/<path>` for Notebook 7."""
        if app == "lab":
            return f"{self.url}/lab/tree/{path}?reset&token={self.token}"
        if app == "notebook":
            return f"{self.url}/notebooks/{path}?token={self.token}"
        raise ValueError(f"unknown app {app!r}: use one of {APPS}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _write_settings(settings_dir: Path) -> None:
    """Turn off the "get notified about Jupyter news?" toast, which covers the page."""
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@contextlib.contextmanager
def start_jupyter(base_url: str | None, root: Path | None = None, timeout: float = SERVER_START_TIMEOUT, *,
                  newcomer: bool = False, server_args: tuple[str, ...] = ()):
    """Run an isolated `jupyter lab` whose kernels reach the emulator at `base_url`; yields a JupyterServer.
    `server_args`: more command-line options of the server (e.g. `--ServerApp.websocket_compression_options={}`).

    `newcomer=True` (then `base_url` may be None): the kernels get no API key and no base URL, as on
    a fresh machine, so the notebooks' `%gemini backend` starts the emulator inside the kernel.
    """
    with tempfile.TemporaryDirectory(prefix="gemini-magic-jupyter-") as home:
        home = Path(home)
        root = Path(root) if root is not None else home / "notebooks"
        root.mkdir(parents=True, exist_ok=True)
        dirs = {name: home / name for name in ("config", "runtime", "data", "ipython", "workspaces")}
        for path in dirs.values():
            path.mkdir()
        settings = dirs["config"] / "lab" / "user-settings"  # the default place for Lab and Notebook 7
        _write_settings(settings)
        token = secrets.token_hex(16)
        port = free_port()
        bin_dir = str(Path(sys.executable).parent)
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                   JUPYTER_DATA_DIR=str(dirs["data"]), IPYTHONDIR=str(dirs["ipython"]),
                   JUPYTER_PLATFORM_DIRS="1",
                   GOOGLE_GEMINI_BASE_URL=base_url, GOOGLE_API_KEY="any-value",
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
                   PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
        for name in ("GEMINI_API_KEY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                     "http_proxy", "https_proxy", "all_proxy", "JUPYTER_PATH"):
            env.pop(name, None)
        if newcomer:
            for name in ("GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
                env.pop(name)
        command = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
                   f"--IdentityProvider.token={token}", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                   "--ServerApp.port_retries=0", "--ServerApp.open_browser=False",
                   f"--ServerApp.root_dir={root}",
                   f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
                   "--LabApp.news_url=None", *server_args]
        log = home / "jupyter.log"
        with open(log, "wb") as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                                       cwd=root, start_new_session=True)
        server = JupyterServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
        try:
            _wait_for_status(server, process, timeout)
            yield server
        finally:
            _stop_group(process)  # on SIGTERM the server shuts its kernels down itself
            _kill_kernels(dirs["runtime"])


def _kill_kernels(runtime_dir: Path) -> None:
    """Kill kernels left behind by a server that had to be SIGKILLed.

    jupyter_client starts each kernel in a session of its own, so killing the server's process group
    misses them; they are found by their connection file, which lives in our private runtime dir.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return
    marker = str(runtime_dir).encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def _wait_for_status(server: JupyterServer, process: subprocess.Popen, timeout: float) -> None:
    opener = _no_proxy_opener()
    request = urllib.request.Request(f"{server.url}/api/status", headers={"Authorization": f"token {server.token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with opener.open(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not answer /api/status within {timeout:.0f} s:\n{server.log_tail()}")


def launch_chromium(playwright):
    """Headless Debian Chromium (never a Playwright-downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)


# -- notebooks ----------------------------------------------------------------------------------

def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write code cells as an nbformat 4 notebook with the python3 kernelspec (so no kernel dialog appears)."""
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{index}", "metadata": {},
                   "outputs": [], "source": source} for index, source in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1))
    return path


# -- page helpers -------------------------------------------------------------------------------

class PageWaitError(AssertionError):
    """A wait on the page timed out; the message names a dump of the page's HTML."""


def dump_page(page, label: str) -> Path:
    """Save the page's HTML (and a screenshot beside it) to a temporary file for a failure message."""
    fd, name = tempfile.mkstemp(prefix=f"gemini-magic-{label}-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        try:
            handle.write(page.content())
        except Exception as error:  # noqa: BLE001 - the dump must not hide the original failure
            handle.write(f"<!-- page.content() failed: {error!r} -->")
    with contextlib.suppress(Exception):
        page.screenshot(path=name[:-5] + ".png", full_page=True)
    return Path(name)


def wait_until(page, predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate()` until it returns something truthy; on timeout raise with a page dump."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        page.wait_for_timeout(interval * 1000)
    dump = dump_page(page, re.sub(r"\W+", "-", what)[:40])
    raise PageWaitError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r}); page HTML: {dump}")


def open_notebook(page, server: JupyterServer, app: str, path: str, timeout: float = KERNEL_TIMEOUT) -> None:
    """Open `path` (relative to the server root) in JupyterLab ("lab") or Notebook 7 ("notebook")."""
    page.goto(server.page_url(app, path), wait_until="domcontentloaded")
    wait_until(page, lambda: page.locator(".jp-Notebook .jp-CodeCell").count() > 0, timeout,
               f"the notebook {path} to show its cells in {app}")


def kernel_status(page, app: str) -> str:
    """What the page says about the kernel: the Lab status bar text, or Notebook 7's kernel indicator."""
    if app == "lab":
        bar = page.locator("#jp-main-statusbar")
        return " ".join(bar.inner_text().split()) if bar.count() else ""
    # Notebook 7 has no status bar. Its `.jp-NotebookKernelStatus` in the top bar is empty until the
    # first status change, then says "Kernel Starting", "Kernel Connecting", ... with a -info/-warn/-error
    # class, and is emptied (class -fade only) once the kernel is idle or busy, that is connected.
    return page.evaluate("""() => {
        const node = document.querySelector('.jp-NotebookKernelStatus');
        if (!node) return 'no kernel status element';
        return `classes: ${node.className}; text: ${node.textContent}`;
    }""")


def kernel_is_idle(page, app: str) -> bool:
    status = kernel_status(page, app)
    if app == "lab":
        return LAB_KERNEL_IDLE in status
    return (status.endswith("text: ") and "jp-NotebookKernelStatus-fade" in status
            and not re.search(r"jp-NotebookKernelStatus-(info|warn|error)", status))


def wait_for_kernel_idle(page, app: str, timeout: float = KERNEL_TIMEOUT) -> None:
    """Wait until the kernel is connected and idle (not merely the toolbar's early "idle")."""
    wait_until(page, lambda: kernel_is_idle(page, app), timeout,
               f"the kernel to be idle in {app} (status {kernel_status(page, app)!r})", interval=0.2)


def code_cell(page, index: int):
    """The locator of the `index`-th code cell (0-based)."""
    return page.locator(".jp-Notebook .jp-CodeCell").nth(index)


def run_cell(page, index: int = 0, timeout: float = 10.0) -> None:
    """Click into the code cell's editor, press Shift+Enter, and wait until the kernel took it.

    "Took it" means the prompt left its blank "[ ]:" (to "[*]:" or a number): a Shift+Enter sent
    before the kernel connected is lost silently, and this turns that into a clear failure.
    """
    editor = code_cell(page, index).locator(".jp-InputArea-editor .cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    before = input_prompt(page, index)
    editor.press("Shift+Enter")
    wait_until(page, lambda: input_prompt(page, index) not in ("", "[ ]:", before) or
               input_prompt(page, index) == "[*]:", timeout,
               f"cell {index} to start running after Shift+Enter (prompt {input_prompt(page, index)!r})",
               interval=0.02)


def input_prompt(page, index: int) -> str:
    """The cell's execution prompt text, e.g. "[2]:" or "[*]:"."""
    prompt = code_cell(page, index).locator(".jp-InputPrompt").first
    return " ".join(prompt.inner_text().split()) if prompt.count() else ""


def wait_for_prompt(page, index: int, count: int, timeout: float = KERNEL_TIMEOUT) -> None:
    """Wait until the cell's prompt reads `[count]:`, that is until its execution finished."""
    wait_until(page, lambda: input_prompt(page, index) == f"[{count}]:", timeout,
               f"cell {index} to finish as [{count}]: (prompt {input_prompt(page, index)!r})")


def cell_error(page, index: int) -> str:
    """The text of an error output in the cell, or ""."""
    errors = code_cell(page, index).locator("[data-mime-type='application/vnd.jupyter.stderr']")
    return "\n".join(errors.all_inner_texts())


# -- watching a cell while it runs ----------------------------------------------------------------

_CELL_TEXTS = """([index, selector]) => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index];
    if (!cell) return null;
    const prompt = cell.querySelector('.jp-InputPrompt');
    const nodes = cell.querySelectorAll('.jp-Cell-outputArea ' + selector);
    return {prompt: prompt ? prompt.innerText.replace(/\\s+/g, ' ').trim() : '',
            texts: Array.from(nodes, node => node.innerText)};
}"""


def watch_cell(page, index: int, selector: str, count: int, timeout: float = KERNEL_TIMEOUT,
               interval: float = 0.05, on_change=None) -> list[str]:
    """Poll the inner text of `selector` in the cell's outputs until its prompt reads `[count]:`.

    Returns the distinct non-empty texts seen, in order (one text per poll: the matches joined).
    `on_change(texts)` is called after each new text, e.g. to take a mid-stream screenshot.
    """
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(_CELL_TEXTS, [index, selector]) or {"prompt": "", "texts": []}
        text = "\n".join(state["texts"])
        if text.strip() and (not seen or text != seen[-1]):
            seen.append(text)
            if on_change is not None:
                on_change(seen)
        if state["prompt"] == f"[{count}]:":
            return seen
        page.wait_for_timeout(interval * 1000)
    dump = dump_page(page, "watch-cell")
    raise PageWaitError(f"cell {index} did not finish as [{count}]: within {timeout:.0f} s after "
                        f"{len(seen)} states of {selector!r}; page HTML: {dump}")


def visible_words(text: str) -> str:
    """Rendered text reduced to what grows monotonically while Markdown streams in.

    A partial line can render differently from its completed form: "**bo" shows its asterisks until
    the closing "**" arrives, a table header is a paragraph of pipes until its separator row, and each
    heading gains a "¶" anchor. Markup characters and whitespace runs are dropped for the comparison.
    """
    return " ".join(re.sub(r"[¶*_`#|\\-]+", " ", text).split())


def growing_states(states: list[str], final: str) -> list[str]:
    """Check that `states` grow: each extends the previous (as visible words) and all fall short of `final`.

    Returns a list of problems (empty when they grow).
    """
    problems = []
    final_words = visible_words(final)
    previous = ""
    for number, state in enumerate(states):
        words = visible_words(state)
        if not words.startswith(previous):
            problems.append(f"state {number} does not extend state {number - 1}:\n  {previous[-120:]!r}\n"
                            f"  {words[-120:]!r}")
        if not final_words.startswith(words) or len(words) >= len(final_words):
            problems.append(f"state {number} is not a proper prefix of the final answer: {words[-120:]!r}")
        previous = words
    return problems


# -- the %%gemini flow shared by the Lab and Notebook 7 tests ---------------------------------------

GEMINI_CELLS = ["%load_ext gemini_magic", "%%gemini\nExplain streaming in one paragraph, in Markdown."]
WIDGET_ANSWER = ".widget-output"                          # the live view's Output widget
MARKDOWN = "[data-mime-type='text/markdown']"
LAST_SENTENCE = "That is the end of the emulated answer"   # its sample of Markdown (asked for) ends with it


EXPECT_TIMEOUT = 30_000  # ms, for Playwright's expect


def expect_final_markdown(page, cell, label: str, extra=None):
    """The cell's one final Markdown answer, with the live widget gone: the emulator's heading, code
    block and last sentence rendered. `extra(final)` adds checks; a failure saves the page (`label`)."""
    from playwright.sync_api import expect

    final = cell.locator(f".jp-Cell-outputArea {MARKDOWN}:not({WIDGET_ANSWER} *)")
    try:
        expect(cell.locator(WIDGET_ANSWER)).to_have_count(0, timeout=EXPECT_TIMEOUT)
        expect(final).to_have_count(1, timeout=EXPECT_TIMEOUT)
        expect(final).to_contain_text(LAST_SENTENCE, timeout=EXPECT_TIMEOUT)
        expect(final.get_by_role("heading", name=re.compile("A sample of Markdown"))).to_be_visible()
        expect(final.locator("pre code")).to_contain_text("def greet")
        if extra is not None:
            extra(final)
    except AssertionError as error:
        raise AssertionError(f"{error}\npage HTML: {dump_page(page, label)}") from None
    return final


def expect_rich_markdown(final) -> None:
    """The footer, bold text and the table of the emulator's sample are rendered too."""
    from playwright.sync_api import expect

    expect(final).to_contain_text("STOP")
    expect(final.locator("strong").first).to_be_visible()
    expect(final.locator("table")).to_contain_text("alpha")


def assert_streamed(states: list[str], final_text: str, where: str = "") -> None:
    """The live widget showed at least three distinct states, each growing towards the final text."""
    problems = growing_states(states, final_text)
    distinct = {visible_words(state) for state in states}
    assert len(distinct) >= 3, f"only {len(distinct)} distinct states of the live widget{where}: {states!r}"
    assert not problems, f"the live widget did not grow like a stream{where}:\n" + "\n".join(problems)


def stream_gemini_cell(page, server: JupyterServer, app: str, name: str, on_change=None) -> list[str]:
    """Write and open a notebook of GEMINI_CELLS, run both cells; return the live widget's text states."""
    write_notebook(server.root / name, GEMINI_CELLS)
    open_notebook(page, server, app, name)
    wait_for_kernel_idle(page, app)
    run_cell(page, 0)
    wait_for_prompt(page, 0, 1)
    problem = cell_error(page, 0)
    assert not problem, f"%load_ext gemini_magic failed:\n{problem}"
    run_cell(page, 1)
    return watch_cell(page, 1, WIDGET_ANSWER, count=2, on_change=on_change)


def screenshot_cell(page, cell, path: Path, max_height: int = 1600) -> None:
    """Screenshot the page from the top down to just below `cell`, in a viewport tall enough to hold it."""
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": max_height})
    box = None
    for _ in range(20):  # the page lays itself out again after the resize: wait until the cell stays put
        cell.scroll_into_view_if_needed()
        page.wait_for_timeout(100)
        previous, box = box, cell.bounding_box()
        if box and box == previous:
            break
    bottom = int(box["y"] + box["height"] + 60) if box else max_height
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": width, "height": min(bottom, max_height)})
