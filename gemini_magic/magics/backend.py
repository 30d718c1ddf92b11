"""Where the magics send requests: a `Client` for the current settings, to the Gemini API or to a local
emulator started inside the kernel.

The backend is chosen anew for every request by its mode (`%gemini backend [auto|api|emulator]`):

- `auto` (the default): the API (at the base URL in effect) when a key is set; with no key the local
  emulator, so `%gemini hello` answers at once in a fresh notebook or terminal. It starts on first
  use and says so in one line; a key set later switches to the API (and says so once);
- `api`: always the API; with no key, the missing-key message;
- `emulator`: always the local emulator, key or not.
"""

from __future__ import annotations


from IPython.core.error import UsageError

from ..constants import DEFAULT_BASE_URL
from ..errors import GeminiError, MissingAPIKeyError
from .display import show_markdown

MODES = ("auto", "api", "emulator")
EMULATOR_NOTE = ("No API key is set, so answers come from the **local Gemini emulator** at {url} (they describe "
                 "what was sent; no model runs). Set `GOOGLE_API_KEY` to use Gemini; `%gemini backend` switches.")


class Backend:
    """The client cache and the backend emulator of one GeminiMagics (its traits give the settings)."""

    def __init__(self, traits) -> None:
        self.traits = traits
        self.mode = "auto"
        self.emulator = None
        self._emulator_key = None
        self._clients: dict = {}
        self._in_use: str | None = None  # "api" or "emulator": what the last request went to

    def client(self):
        """A client for the current mode, settings and environment (rebuilt when they change).

        Raises UsageError with the explanation when no key is set for the API, or a setting is bad.
        """
        from ..api.client import Client

        traits = self.traits
        try:
            key, base_url = self._endpoint()
            cache_key = (hash(key), base_url, traits.api_version, traits.max_retries, traits.timeout,
                         repr(sorted(traits.prices.items())), traits.max_cost)
            client = self._clients.get(cache_key)
            if client is None:
                client = Client(api_key=key, base_url=base_url, api_version=traits.api_version,
                                timeout=traits.timeout, max_retries=traits.max_retries,
                                prices=dict(traits.prices) or None, max_cost=traits.max_cost)
                self.close_clients()
                self._clients = {cache_key: client}
        except GeminiError as error:
            raise UsageError(_explain(error)) from None
        return client

    def uses_emulator(self) -> bool:
        """True when the next request goes to the local emulator (started or not yet)."""
        if self.mode != "auto":
            return self.mode == "emulator"
        from ..wire.endpoint import resolve_api_key

        key, _ = resolve_api_key()
        return not key

    def _endpoint(self) -> tuple[str | None, str]:
        """(key, base URL) for the next request; starts the emulator (and says so) when it is its turn."""
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        if self.uses_emulator():
            started = self._start_emulator()
            if self.mode == "auto" and (started or self._in_use == "api"):
                show_markdown(EMULATOR_NOTE.format(url=self.emulator.base_url))
            self._in_use = "emulator"
            return self._emulator_key, self.emulator.base_url
        key, source = resolve_api_key()
        base_url, _ = resolve_base_url(self.traits.base_url)
        if self.mode == "auto" and self._in_use == "emulator" and key:
            show_markdown(f"A key is set now (`{source}`): using {_where(base_url)} instead of the local emulator.")
        self._in_use = "api"
        return key, base_url

    def close_clients(self) -> None:
        """Close the cached clients' connections (settings changed, or the extension is unloaded)."""
        for client in self._clients.values():
            client.close()
        self._clients = {}

    def choose(self, words: list[str]) -> None:
        """`%gemini backend [auto|api|emulator]`: set the mode and say, in one line, where requests go."""
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        choice = words[0].lower() if words else "auto"
        if choice not in MODES:
            raise UsageError(f"%gemini backend takes auto, api or emulator; got {words[0]!r}.")
        try:
            key, source = resolve_api_key()
            base_url, _ = resolve_base_url(self.traits.base_url)
        except GeminiError as error:
            raise UsageError(_explain(error)) from None
        if choice == "api" and not key:
            raise UsageError(_explain(MissingAPIKeyError()))
        self.mode = choice
        if not self.uses_emulator():
            self.stop_emulator()
            self._in_use = "api"
            show_markdown(f"Using {_where(base_url)} (key from `{source}`).")
            return
        self._start_emulator()
        self._in_use = "emulator"
        reason = "no API key is set, so " if choice == "auto" else ""
        switch = (f"A key is set (`{source}`): `%gemini backend auto` (or `api`) switches to Gemini." if key else
                  "Set `GOOGLE_API_KEY` (or `GEMINI_API_KEY`) and run `%gemini backend auto` (or `api`) to use Gemini.")
        show_markdown(f"Using the **local Gemini emulator** at {self.emulator.base_url}: {reason}answers describe "
                      f"what was sent instead of coming from a model. {switch}")

    def _start_emulator(self) -> bool:
        """Start the in-kernel emulator unless it runs; True when it was started now."""
        if self.emulator is not None:
            return False
        try:
            from gemini_emulator import Emulator  # beside the package, loaded only when needed
        except ImportError as error:
            raise UsageError("The local emulator (the gemini_emulator package) is not installed: install "
                             "gemini_magic with `pip install -e .` from its repository, or set GOOGLE_API_KEY "
                             f"and run `%gemini backend api`. ({error})") from None

        self.emulator = Emulator(pace=0.02).start()
        import secrets  # here, not at %load_ext: it loads OpenSSL (hmac, _hashlib), about 8 ms

        self._emulator_key = "emulator-" + secrets.token_hex(8)
        return True

    def stop_emulator(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self._in_use == "emulator":
            self._in_use = None

    def shutdown(self) -> None:
        self.close_clients()
        self.stop_emulator()


def _where(base_url: str) -> str:
    return "the **real Gemini API**" if base_url == DEFAULT_BASE_URL else f"the API at {base_url}"


def _explain(error: BaseException) -> str:
    """explain.message, imported on first use (not at %load_ext: it brings difflib and a dozen patterns)."""
    from . import explain

    return explain.message(error)
