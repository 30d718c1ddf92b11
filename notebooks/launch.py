"""Open the gemini_magic quickstart in JupyterLab: `python notebooks/launch.py`.

Starts JupyterLab on 127.0.0.1 serving this folder, with `quickstart.ipynb` open, and prints the URL
(with its login token) once the server answers. Says first whether the notebooks will talk to the
real Gemini API (GOOGLE_API_KEY or GEMINI_API_KEY is set) or to the local emulator (no key: the
notebooks' `%gemini backend` starts one in the kernel). Runs until Ctrl-C, then stops the server.

Options: `--port N` (default 8888, or the next free one), `--no-browser` (a browser is opened only
where there is a display), `--notebook NAME` (another notebook of this folder), `--dir PATH` (serve
another folder holding copies of the notebooks). Jupyter's own log goes to a file named on screen.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PORT = 8888
PORT_ATTEMPTS = 20
START_TIMEOUT = 180.0          # seconds; a first start on a slow machine can take a while
INSTALL = "pip install -e '.[notebooks]'"
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")   # the order gemini_magic reads them in
BASE_URL_VARIABLE = "GOOGLE_GEMINI_BASE_URL"


def describe_backend(environ=os.environ) -> str:
    """One line: what the notebooks' `%gemini backend` will pick in this environment."""
    source = next((name for name in KEY_VARIABLES if environ.get(name)), None)
    if source is None:
        return ("Backend: the local Gemini emulator (no GOOGLE_API_KEY or GEMINI_API_KEY is set), so no key "
                "and no network are needed; answers describe what was sent. Set GOOGLE_API_KEY before "
                "launching to use Gemini.")
    where = environ.get(BASE_URL_VARIABLE)
    return (f"Backend: the real Gemini API, key from {source}"
            + (f", at {where} ({BASE_URL_VARIABLE})." if where else "."))


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(wanted: int | None) -> int:
    """`wanted` if given (it must be free); else DEFAULT_PORT or one of the next ports, else any free one."""
    if wanted is not None:
        if wanted and not port_is_free(wanted):
            raise SystemExit(f"Port {wanted} is in use on 127.0.0.1; choose another with --port.")
        return wanted or _any_free_port()
    for port in range(DEFAULT_PORT, DEFAULT_PORT + PORT_ATTEMPTS):
        if port_is_free(port):
            return port
    return _any_free_port()


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def has_display() -> bool:
    """Whether opening a browser can work: always on macOS and Windows, with X11 or Wayland elsewhere."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def missing_packages() -> list[str]:
    missing = []
    for module in ("jupyterlab", "ipykernel", "gemini_magic"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return missing


def jupyter_command(port: int, token: str, root: Path) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}",
               # permessage-deflate on the websockets (the browser offers it; off by default): the voice
               # widget's microphone then costs 0.54x the raw PCM on the wire instead of 1.12x
               # (gemini_magic/voice/widget.py). On the command line the value arrives as the string
               # "{}", which Tornado takes as empty options; in a config file: ... = {}.
               "--ServerApp.websocket_compression_options={}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses to run as root without it (containers, CI)
    return command


def wait_until_ready(url: str, token: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll /api/status until it answers 200; fail with the log's end if Jupyter exits or takes too long."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"JupyterLab exited with code {process.returncode}. The end of its log ({log}):\n"
                             + _tail(log))
        try:
            with opener.open(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"JupyterLab did not answer within {timeout:.0f} s. The end of its log ({log}):\n" + _tail(log))


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM Jupyter (it then shuts its kernels down), SIGKILL it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open the gemini_magic quickstart in JupyterLab.")
    parser.add_argument("--port", type=int, help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or the next free one; "
                                                 "0: any free port)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument("--notebook", default="quickstart.ipynb", help="the notebook to open (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=HERE, help="the folder to serve (default: this one)")
    args = parser.parse_args(argv)

    missing = missing_packages()
    if missing:
        print(f"Not installed: {', '.join(missing)}. From the project folder, run: {INSTALL}", file=sys.stderr)
        return 1
    root = args.dir.resolve()
    if not (root / args.notebook).is_file():
        print(f"No notebook {args.notebook} in {root}.", file=sys.stderr)
        return 1

    print(describe_backend(), flush=True)
    port = pick_port(args.port)
    token = secrets.token_hex(24)
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="gemini-magic-jupyter-", suffix=".log")[1])
    env = dict(os.environ)
    # Kernels and terminals should find this Python's tools first, even when its venv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    with open(log, "wb") as log_file:
        # A session of its own: Ctrl-C reaches only this script, which then stops Jupyter cleanly
        # (Jupyter's own Ctrl-C handler would ask for a confirmation on the terminal).
        process = subprocess.Popen(jupyter_command(port, token, root), stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl-C must work even when this was started from a script in the background, which inherits
    # SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(f"Starting JupyterLab (pid {process.pid}; its log: {log}) ...", flush=True)
        wait_until_ready(url, token, process, log, START_TIMEOUT)
        page = f"{url}/lab/tree/{args.notebook}?token={token}"
        print(f"\nOpen the quickstart in JupyterLab:\n\n    {page}\n", flush=True)
        print(f"Or in Jupyter Notebook 7: {url}/notebooks/{args.notebook}?token={token}", flush=True)
        if not args.no_browser and has_display():
            webbrowser.open(page)
        print("Press Ctrl-C to stop the server.", flush=True)
        while process.poll() is None:
            time.sleep(0.5)
        print(f"JupyterLab exited with code {process.returncode}; see {log}.", file=sys.stderr)
        return process.returncode or 1
    except KeyboardInterrupt:
        print("\nStopping JupyterLab ...", flush=True)
        return 0
    finally:
        stop(process)


if __name__ == "__main__":
    sys.exit(main())
