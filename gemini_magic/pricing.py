"""What an answer cost, estimated in US dollars from its `usageMetadata` and a dated price table.

`PRICES` holds Google's published prices for the Gemini Developer API, paid tier, Standard
(interactive) requests, in US dollars per 1 million tokens, as listed on
https://ai.google.dev/gemini-api/docs/pricing and read on `PRICES_DATE`. Prices change: every estimate
says the table's date, and `estimate(..., prices={...})` (`Client(prices=...)`,
`%config GeminiMagics.prices`) overrides any model's entry or adds one. A model missing from the table
gets no estimate (None), never a guessed price.

How usage is priced (the pricing page's rules):
- `promptTokenCount` includes the cached tokens: the cached part (`cachedContentTokenCount`) is billed
  at the cached rate, the rest at the input rate; audio input (`promptTokensDetails` modality AUDIO,
  less the cached audio of `cacheTokensDetails`) at the audio rate where the model has one;
  `toolUsePromptTokenCount` (what built-in tools read) at the input rate.
- `candidatesTokenCount` at the output rate, its IMAGE and AUDIO modality tokens
  (`candidatesTokensDetails`) at the image and audio output rates; `thoughtsTokenCount` at the
  thinking rate (the output rate: "output price including thinking tokens").
- A prompt above `long_context` tokens (Gemini 2.5 Pro and 3 Pro: 200,000) is billed at the
  long-context rates, all of it.
- Batch API requests cost half (`BATCH_DISCOUNT`). Cache storage per hour and grounding requests are
  not in usageMetadata and are not estimated.

Pure and standard library only (layer 7).

    >>> cost = estimate({"promptTokenCount": 1000, "candidatesTokenCount": 500, "thoughtsTokenCount": 500},
    ...                 "gemini-2.5-flash")
    >>> round(cost.total, 6), format_usd(cost.total)
    (0.0028, '$0.0028')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

#: When the prices below were read from the pricing page (ISO date).
PRICES_DATE = "2026-10-07"
#: Batch API requests cost this fraction of the Standard price.
BATCH_DISCOUNT = 0.5
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class ModelPrices:
    """One model's prices in US dollars per 1 million tokens. `thinking`, `audio_input`, `image_output`
    and `audio_output` default to the input or output rate; `cached` and `cached_audio` to None (the
    model has no context caching: cached tokens, if any, at the input rate). `long_context`: the prompt
    size above which the `long` prices apply (None: one tier)."""

    input: float
    output: float
    thinking: float | None = None
    cached: float | None = None
    audio_input: float | None = None
    cached_audio: float | None = None
    image_output: float | None = None
    audio_output: float | None = None
    long_context: int | None = None
    long: "ModelPrices | None" = field(default=None, repr=False)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: "ModelPrices | None" = None) -> "ModelPrices":
        """A price entry from a dict (`{"input": 0.3, "output": 2.5, "cached": 0.03}`), over `base` when
        given (so an override may change one rate). ValueError names a wrong key or value."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown price field {unknown[0]!r}; the fields are {', '.join(sorted(names))}.")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name == "long":
                checked[name] = None if value is None else cls.from_mapping(value, base.long if base else None)
            elif value is None:
                checked[name] = None
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"price {name!r} must be a number of dollars per 1M tokens, 0 or more; "
                                 f"got {value!r}.")
            else:
                checked[name] = int(value) if name == "long_context" else float(value)
        if base is not None:
            return replace(base, **checked)
        missing = [name for name in ("input", "output") if name not in checked]
        if missing:
            raise ValueError(f"a new model's prices need {' and '.join(missing)} (dollars per 1M tokens).")
        return cls(**checked)


PRICES: dict[str, ModelPrices] = {
    "gemini-2.5-pro": ModelPrices(input=1.25, output=10.00, cached=0.125, long_context=200_000,
                                  long=ModelPrices(input=2.50, output=15.00, cached=0.25)),
    "gemini-2.5-flash": ModelPrices(input=0.30, output=2.50, cached=0.03, audio_input=1.00, cached_audio=0.10),
    "gemini-2.5-flash-lite": ModelPrices(input=0.10, output=0.40, cached=0.01, audio_input=0.30, cached_audio=0.03),
    "gemini-2.0-flash": ModelPrices(input=0.10, output=0.40, cached=0.025, audio_input=0.70, cached_audio=0.175),
    "gemini-2.5-flash-image": ModelPrices(input=0.30, output=2.50, image_output=30.00),
    "gemini-3-pro-image-preview": ModelPrices(input=2.00, output=12.00, image_output=120.00),
    "gemini-2.5-flash-preview-tts": ModelPrices(input=0.50, output=10.00, audio_output=10.00),
    "gemini-2.5-pro-preview-tts": ModelPrices(input=1.00, output=20.00, audio_output=20.00),
    "gemini-3-flash-preview": ModelPrices(input=0.50, output=3.00, cached=0.05, audio_input=1.00, cached_audio=0.10),
    "gemini-3-pro-preview": ModelPrices(input=2.00, output=12.00, cached=0.20, long_context=200_000,
                                        long=ModelPrices(input=4.00, output=18.00, cached=0.40)),
    "gemini-embedding-001": ModelPrices(input=0.15, output=0.0),
}
# Not priced on purpose: aliases such as gemini-flash-latest (the model behind them changes), and any
# model not listed: their answers show tokens only.


@dataclass(frozen=True)
class Cost:
    """An estimate: `total` US dollars, `items` {what: dollars} (input, cached input, audio input, tool
    use input, output, image output, audio output, thinking), the `model` priced, the table's `date`,
    `batch` (Batch API discount applied). `str(cost)` is "$0.0028"."""

    total: float
    items: dict = field(default_factory=dict)
    model: str | None = None
    date: str = PRICES_DATE
    batch: bool = False

    def __str__(self) -> str:
        return format_usd(self.total)

    def __add__(self, other: "Cost | None") -> "Cost":
        if other is None:
            return self
        items = dict(self.items)
        for name, value in other.items.items():
            items[name] = items.get(name, 0.0) + value
        model = self.model if self.model == other.model else None
        date = self.date if self.date == other.date else "custom" if "custom" in (self.date, other.date) else \
            min(self.date, other.date)
        return Cost(self.total + other.total, items, model, date, self.batch and other.batch)

    __radd__ = __add__

    def footer(self) -> str:
        """`≈ $0.0028 (prices of 2026-10-07)`, with "batch" when the discount applies and "your prices"
        when an override priced it."""
        source = "your prices" if self.date == "custom" else f"prices of {self.date}"
        return f"≈ {format_usd(self.total)}{' batch' if self.batch else ''} ({source})"


def prices_for(model: str | None, prices: Mapping[str, Any] | None = None) -> ModelPrices | None:
    """The prices of `model` ("models/" prefix ignored): the override's entry (a ModelPrices or a dict
    over the table's entry), else the table's; None when neither has it."""
    if not model:
        return None
    name = str(model).removeprefix("models/")
    base = PRICES.get(name)
    override = (prices or {}).get(name)
    if override is None:
        return base
    if isinstance(override, ModelPrices):
        return override
    return ModelPrices.from_mapping(override, base)


def check_prices(prices: Mapping[str, Any]) -> dict[str, ModelPrices]:
    """Every entry of an override as ModelPrices: ValueError naming the model and what is wrong."""
    if not isinstance(prices, Mapping):
        raise ValueError(f"prices must be a dict of model name to prices; got {type(prices).__name__}.")
    checked = {}
    for name, entry in prices.items():
        try:
            checked[name] = prices_for(name, {name: entry})
        except (ValueError, TypeError) as error:
            raise ValueError(f"prices for {name}: {error}") from None
    return checked


def estimate(usage: Mapping[str, Any], model: str | None, *, prices: Mapping[str, Any] | None = None,
             batch: bool = False, date: str | None = None) -> Cost | None:
    """The cost of one answer's `usage` (usageMetadata) with `model`'s prices; None when the model has
    no price or the usage has no token counts. `batch`: half price. `date`: the table's date shown
    (default PRICES_DATE; an override says "custom")."""
    rates = prices_for(model, prices)
    counts = {key: value for key, value in (usage or {}).items() if isinstance(value, int)
              and not isinstance(value, bool)}
    if rates is None or not counts:
        return None
    prompt = counts.get("promptTokenCount", 0)
    if rates.long is not None and rates.long_context is not None and prompt > rates.long_context:
        rates = replace(rates.long, long=None, long_context=None)
    cached = counts.get("cachedContentTokenCount", 0)
    audio = _modality(usage.get("promptTokensDetails"), "AUDIO")
    cached_audio = min(_modality(usage.get("cacheTokensDetails"), "AUDIO"), cached)
    audio_fresh = max(audio - cached_audio, 0)
    fresh = max(prompt - cached - audio_fresh, 0)
    answer = counts.get("candidatesTokenCount", 0)
    image_out = _modality(usage.get("candidatesTokensDetails"), "IMAGE")
    audio_out = _modality(usage.get("candidatesTokensDetails"), "AUDIO")
    text_out = max(answer - image_out - audio_out, 0)
    cached_rate = rates.cached if rates.cached is not None else rates.input
    audio_rate = rates.audio_input if rates.audio_input is not None else rates.input
    tokens = {  # what: (tokens, dollars per 1M)
        "input": (fresh, rates.input),
        "cached input": (cached - cached_audio, cached_rate),
        "cached audio input": (cached_audio, rates.cached_audio if rates.cached_audio is not None else cached_rate),
        "audio input": (audio_fresh, audio_rate),
        "tool use input": (counts.get("toolUsePromptTokenCount", 0), rates.input),
        "output": (text_out, rates.output),
        "image output": (image_out, rates.image_output if rates.image_output is not None else rates.output),
        "audio output": (audio_out, rates.audio_output if rates.audio_output is not None else rates.output),
        "thinking": (counts.get("thoughtsTokenCount", 0), rates.thinking if rates.thinking is not None
                     else rates.output),
    }
    factor = BATCH_DISCOUNT if batch else 1.0
    items = {name: count * rate / PER_TOKENS * factor for name, (count, rate) in tokens.items() if count}
    name = str(model).removeprefix("models/")
    shown = date or ("custom" if prices and name in prices else PRICES_DATE)
    return Cost(sum(items.values()), items, name, shown, batch)


# Output tokens of one generated image up to 1024x1024 (gemini-2.5-flash-image: "1290 tokens per image",
# ai.google.dev/gemini-api/docs/pricing); larger sizes cost more, so this is the least an image costs.
IMAGE_TOKENS = 1290


def estimate_prompt(prompt_tokens: int, model: str | None, *, max_output_tokens: int | None = None,
                    cached_tokens: int = 0, prices: Mapping[str, Any] | None = None,
                    batch: bool = False, image_tokens: int = 0) -> Cost | None:
    """Before sending: the prompt's cost (from countTokens), plus the most the answer can cost when
    `max_output_tokens` bounds it (answer and thinking share that limit, at the output rate), plus
    `image_tokens` of image output (IMAGE_TOKENS per image an image model is asked for)."""
    usage = {"promptTokenCount": int(prompt_tokens), "cachedContentTokenCount": int(cached_tokens)}
    if max_output_tokens:
        usage["candidatesTokenCount"] = int(max_output_tokens)
    if image_tokens:  # the least an image answer costs: its images are billed whatever the token limit
        usage["candidatesTokenCount"] = usage.get("candidatesTokenCount", 0) + int(image_tokens)
        usage["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": int(image_tokens)}]
    return estimate(usage, model, prices=prices, batch=batch)


def total(costs) -> Cost | None:
    """The sum of several estimates (None ones left out); None when none has a price."""
    found = [cost for cost in costs if cost is not None]
    return sum(found[1:], found[0]) if found else None


def format_usd(amount: float) -> str:
    """Dollars for a person: "$0", "$0.00012", "$0.0028", "$0.50", "$12.34" (two significant digits
    below a dollar, cents above)."""
    if amount == 0:
        return "$0"
    if amount >= 1:
        return f"${amount:,.2f}"
    digits = max(2, 1 - math.floor(math.log10(amount)))
    return f"${amount:.{digits}f}"


def _modality(details: Any, modality: str) -> int:
    """The tokens of one modality in a `...TokensDetails` list ([{"modality", "tokenCount"}])."""
    if not isinstance(details, list):
        return 0
    return sum(int(d.get("tokenCount", 0) or 0) for d in details
               if isinstance(d, dict) and d.get("modality") == modality)
