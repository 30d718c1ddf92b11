"""Command line: ``python -m gemini_emulator [--port P] [--pace S] ...``.

Prints where it listens and how to point the client at it, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .core import Emulator

DEFAULT_PORT = 8765
# A little pacing by default, so a person watching a notebook sees the answer stream in.
DEFAULT_PACE = 0.02


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gemini_emulator",
                                     description="Local Gemini API emulator (not the real Gemini API).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--pace", type=float, default=DEFAULT_PACE, help="seconds between stream events")
    parser.add_argument("--file-processing-delay", type=float, default=0.0,
                        help="seconds an uploaded file stays PROCESSING")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    # The emulator's own failures (tracebacks, logged at debug level) go to this terminal.
    log = logging.getLogger("gemini_emulator")
    log.setLevel(logging.DEBUG)
    log.addHandler(logging.StreamHandler(sys.stderr))
    try:
        emulator = Emulator(pace=args.pace, api_key=args.api_key, port=args.port, host=args.host,
                            file_processing_delay=args.file_processing_delay, verbose=args.verbose)
        emulator.start()
    except (OSError, ValueError) as error:
        print(f"gemini emulator: cannot start: {error}", file=sys.stderr)
        return 1
    stopped = threading.Event()
    # SIGTERM and SIGINT (Ctrl-C) both end the wait, so either exits cleanly without a traceback;
    # SIGINT is set explicitly because a process started in the background inherits it ignored.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopped.set())
    print(f"Gemini emulator (not the real Gemini API) listening on {emulator.base_url}")
    print(f"export GOOGLE_GEMINI_BASE_URL={emulator.base_url} GOOGLE_API_KEY=any-value", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
