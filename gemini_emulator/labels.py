"""Which label a classification (``text/x.enum``) answers: the one the prompt's words best match.

Deterministic, no model: each word of the prompt (lower case, ``\\w+`` runs) scores for a label when
it is one of the label's words or shares its first five letters with one (``shipping`` ~ ``shipped``),
and, for the labels of common sentiment and yes/no sets (positive, negative, neutral, mixed, happy,
sad, yes, no, ...), when it is one of a short list of cue words (``lovely`` → positive, ``broken`` →
negative). The highest score wins; a tie, or no word to go on, goes to the label listed first.

    >>> choose(["positive", "negative", "neutral"], "The kettle broke after a week. Terrible.")
    'negative'
    >>> choose(["billing", "shipping", "technical support"], "My parcel was shipped to the wrong town")
    'shipping'
"""

from __future__ import annotations

import re

_POSITIVE = {"good", "great", "love", "loved", "lovely", "excellent", "amazing", "wonderful", "happy", "best",
             "perfect", "nice", "fantastic", "recommend", "delicious", "beautiful", "enjoy", "enjoyed",
             "pleasant", "superb", "friendly", "glad", "brilliant", "comfortable", "fast"}
_NEGATIVE = {"bad", "terrible", "awful", "hate", "hated", "broke", "broken", "worst", "poor", "disappointing",
             "disappointed", "useless", "sad", "angry", "refund", "rude", "dirty", "horrible", "leaks",
             "leaked", "leaking", "cold", "late", "slow", "noisy", "unhappy", "waste", "wrong"}
_NEUTRAL = {"okay", "ok", "fine", "average", "decent", "mixed", "however", "although", "somewhat"}
_YES = {"yes", "true", "correct", "right", "indeed", "sure", "agree"}
_NO = {"no", "not", "false", "never", "incorrect", "disagree", "none"}

#: A label word → the cue words that speak for it.
CUES = {
    **dict.fromkeys(("positive", "pos", "good", "happy", "praise", "like", "great", "satisfied"), _POSITIVE),
    **dict.fromkeys(("negative", "neg", "bad", "sad", "complaint", "angry", "dislike", "unsatisfied"), _NEGATIVE),
    **dict.fromkeys(("neutral", "mixed", "ok", "okay", "average"), _NEUTRAL),
    **dict.fromkeys(("yes", "true"), _YES),
    **dict.fromkeys(("no", "false"), _NO),
}
STEM = 5  # letters two words must share to count as the same word


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W_]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text)))]


def score(label, words: list[str]) -> int:
    """How many of `words` (lower case) speak for `label`."""
    own = _words(label)
    cues = set().union(*(CUES.get(word, set()) for word in own)) if own else set()
    total = 0
    for word in words:
        if any(word == mine or (len(word) >= STEM and len(mine) >= STEM and word[:STEM] == mine[:STEM])
               for mine in own):
            total += 2
        elif word in cues:
            total += 1
    return total


def choose(labels: list, prompt: str):
    """The label of `labels` that `prompt` best matches (the first on a tie)."""
    words = _words(prompt)
    best, best_score = labels[0], score(labels[0], words)
    for label in labels[1:]:
        current = score(label, words)
        if current > best_score:
            best, best_score = label, current
    return best
