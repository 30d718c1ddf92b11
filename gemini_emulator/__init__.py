"""A local Gemini-compatible HTTP server, so tests and notebooks run with no key and no network.

It speaks the real wire format (SSE and JSON-array streams, resumable uploads, Google error JSON,
rate-limit details) and answers deterministically, describing what it received: the prompt echoed,
image sizes, table shapes, audio lengths. Every answer says it comes from the emulator. It shares no
wire code with the client; from the package it imports only ``gemini_magic.constants``.

In process::

    from gemini_emulator import Emulator
    with Emulator() as emu:
        print(emu.base_url)        # http://127.0.0.1:PORT

From a shell: ``python -m gemini_emulator --port 8765``.
"""

from .core import Emulator, RecordedRequest

__all__ = ["Emulator", "RecordedRequest"]
