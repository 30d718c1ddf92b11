"""Where the magics send requests: a `Client` for the current settings, or a local emulator
(`%gemini backend [auto|api|emulator]`) when there is no key."""

from __future__ import annotations

import secrets

from IPython.core.error import UsageError

from ..constants import DEFAULT_BASE_URL
from ..errors import GeminiError, MissingAPIKeyError
from . import explain
from .display import show_markdown


class Backend:
    """The client cache and the backend emulator of one GeminiMagics (its traits give the settings)."""

    def __init__(self, traits) -> None:
        self.traits = traits
        self.emulator = None
        self._emulator_key = None
        self._clients: dict = {}

    def client(self):
        """A client for the current settings and environment (rebuilt when they change)."""
        from ..api.client import Client
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        traits = self.traits
        try:
            if self.emulator is not None:
                key, base_url = self._emulator_key, self.emulator.base_url
            else:
                key, _ = resolve_api_key()
                base_url, _ = resolve_base_url(traits.base_url)
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
            raise UsageError(explain.message(error)) from None
        return client

    def close_clients(self) -> None:
        """Close the cached clients' connections (settings changed, or the extension is unloaded)."""
        for client in self._clients.values():
            client.close()
        self._clients = {}

    def choose(self, words: list[str]) -> None:
        """`%gemini backend [auto|api|emulator]`: the real API when a key is set, else the local emulator."""
        from ..wire.endpoint import resolve_api_key, resolve_base_url

        choice = words[0] if words else "auto"
        if choice not in ("auto", "api", "emulator"):
            raise UsageError(f"%gemini backend takes auto, api or emulator; got {choice!r}.")
        try:
            key, source = resolve_api_key()
        except GeminiError as error:
            raise UsageError(explain.message(error)) from None
        if choice == "api" or (choice == "auto" and key):
            if not key:
                raise UsageError(explain.message(MissingAPIKeyError()))
            self.stop_emulator()
            try:
                base_url, _ = resolve_base_url(self.traits.base_url)
            except GeminiError as error:
                raise UsageError(explain.message(error)) from None
            where = "the **real Gemini API**" if base_url == DEFAULT_BASE_URL else f"the API at {base_url}"
            show_markdown(f"Using {where} (key from `{source}`).")
            return
        if self.emulator is None:
            from ..emulator import Emulator

            self.emulator = Emulator(pace=0.02).start()
            self._emulator_key = "emulator-" + secrets.token_hex(8)
        show_markdown(f"Using the **local Gemini emulator** at {self.emulator.base_url}: no API key is set, so "
                      "answers describe what was sent instead of coming from a model. Set `GOOGLE_API_KEY` "
                      "and run `%gemini backend` again to use Gemini.")

    def stop_emulator(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def shutdown(self) -> None:
        self.close_clients()
        self.stop_emulator()
