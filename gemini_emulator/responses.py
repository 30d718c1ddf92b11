"""GenerateContentResponse objects: the stream's events and the unary answer, faults applied.

The stream is built first, as a list of complete event objects shaped like the recordings
(shared/recordings/stream_sse, spec/sse-recordings): every event carries a running-total
``usageMetadata``, ``modelVersion`` and ``responseId``; only the last carries ``finishReason``.
The unary answer is the merge of those events, so both paths always agree on text and usage.
Pure: no I/O here; the server decides how to frame and pace the events.
"""

from __future__ import annotations

import secrets

from gemini_magic.constants import EMULATOR_MODEL_VERSION_SUFFIX

from . import answers, media_out, models, structured

CATEGORIES = ("HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_DANGEROUS_CONTENT",
              "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_SEXUALLY_EXPLICIT")
CITATION_URI = "https://example.com/gemini-magic-emulator/recited-source"
STREAM_ONLY_CUTS = ("cut", "drop_after", "error_mid_stream")


def safety_ratings(blocked_category: str | None = None) -> list[dict]:
    ratings = []
    for category in CATEGORIES:
        if category == blocked_category:
            ratings.append({"category": category, "probability": "HIGH", "blocked": True})
        else:
            ratings.append({"category": category, "probability": "NEGLIGIBLE"})
    return ratings


class Generation:
    """Everything the emulator answers to one generate request."""

    def __init__(self, request, model: str, fault=None, cache=None, declared: list | None = None):
        self.request = request
        self.model = model
        self.fault = fault
        self.kind = fault.kind if fault is not None else None
        self.version = model + EMULATOR_MODEL_VERSION_SUFFIX
        self.response_id = secrets.token_urlsafe(17)[:23]
        self.prompt_tokens, self.prompt_details = answers.prompt_tokens(request)
        self.cache = cache  # a StoredCache (emulator/caches.py) named by the request's cachedContent
        if cache is not None:
            self.prompt_tokens, self.prompt_details = cache.add_to_prompt(self.prompt_tokens, self.prompt_details)
        settings = request.settings
        thinking_config = settings.get("thinkingConfig") or {}
        self.thinks = models.thinks(model) and thinking_config.get("thinkingBudget", -1) != 0
        self.show_thoughts = self.thinks and thinking_config.get("includeThoughts") is True
        if self.kind == "thoughts":
            self.thinks = self.show_thoughts = True
        self.found = answers.attachments(request)
        self.thoughts = answers.thought_chunks(request, self.found)
        self.thought_tokens = answers.text_tokens("".join(self.thoughts)) if self.thinks else 0
        count = settings.get("candidateCount") or 1
        self.media = media_out.plan(request, model, answers.prompt_text(request))  # image or speech out
        self.candidates = []
        for index in range(count):
            text = answers.answer_text(request, model, self.found, index, count, declared)
            if cache is not None and not structured.wanted(settings):  # JSON that must fit its schema
                text = cache.mention(text, model)
            if self.media is not None:
                text = self.media.text
            text, finish = answers.apply_limits(text, settings)
            pieces = structured.chunks(text) if structured.wanted(settings) else answers.chunk_text(text)
            self.candidates.append((pieces, finish))

    # -- events ---------------------------------------------------------------------------------
    def events(self) -> list[dict]:
        """The stream's events, with the fault (if any) already applied."""
        if self.kind == "block_prompt":
            return [self.blocked()]
        events = self._thought_events() + self._answer_events()
        if self.media is not None:
            events = media_out.with_media(events, self.media)
        if self.kind in ("finish",) + STREAM_ONLY_CUTS:
            keep = self.fault.get("chunks")
            keep = max(1, len(events) // 2) if keep is None else int(keep)
            # A finish needs an event to carry it; the wire faults may stop before the first.
            keep = max(1 if self.kind == "finish" else 0, keep)
            events = events[:keep]
            if self.kind == "cut" and events:
                for candidate in events[-1].get("candidates", []):
                    candidate.pop("finishReason", None)
            if self.kind == "finish" and events:
                self._finish_early(events)
        return events

    def _usage(self, answer_tokens: int, thought_tokens: int) -> dict:
        usage = {"promptTokenCount": self.prompt_tokens}
        if answer_tokens:
            usage["candidatesTokenCount"] = answer_tokens
        usage["totalTokenCount"] = self.prompt_tokens + answer_tokens + thought_tokens
        usage["promptTokensDetails"] = self.prompt_details
        if self.thinks:
            usage["thoughtsTokenCount"] = thought_tokens
        if self.cache is not None:
            self.cache.add_to_usage(usage)
        return usage

    def _event(self, candidates: list[dict], usage: dict) -> dict:
        return {"candidates": candidates, "usageMetadata": usage, "modelVersion": self.version,
                "responseId": self.response_id}

    def _thought_events(self) -> list[dict]:
        if not self.show_thoughts:
            return []
        events, so_far = [], ""
        for piece in self.thoughts:
            so_far += piece
            part = {"text": piece, "thought": True}
            candidate = {"content": {"parts": [part], "role": "model"}, "index": 0}
            events.append(self._event([candidate], self._usage(0, answers.text_tokens(so_far))))
        return events

    def _answer_events(self) -> list[dict]:
        total = max(len(chunks) for chunks, _ in self.candidates)
        slots: list[list] = [[] for _ in range(total)]
        for index, (chunks, _) in enumerate(self.candidates):
            for position, piece in enumerate(chunks):
                # A shorter candidate's last piece waits for the last event, with every finishReason.
                slot = total - 1 if position == len(chunks) - 1 else position
                slots[slot].append((index, piece))
        delivered = [""] * len(self.candidates)
        events = []
        for number, slot in enumerate(slots):
            candidates = []
            for index, piece in slot:
                delivered[index] += piece
                candidate = {"content": {"parts": [{"text": piece}], "role": "model"}}
                if number == total - 1:
                    candidate["finishReason"] = self.candidates[index][1]
                candidate["index"] = index
                candidates.append(candidate)
            tokens = sum(answers.text_tokens(text) for text in delivered)
            events.append(self._event(candidates, self._usage(tokens, self.thought_tokens)))
        return events

    def _finish_early(self, events: list[dict]) -> None:
        """The ``finish`` fault: the last kept event ends every candidate with the given reason."""
        reason = str(self.fault.get("reason", "SAFETY"))
        texts = {}
        for event in events:
            for candidate in event.get("candidates", []):
                for part in candidate["content"]["parts"]:
                    if not part.get("thought"):
                        texts.setdefault(candidate["index"], []).append(part["text"])
        for candidate in events[-1].get("candidates", []):
            index = candidate.pop("index")  # re-added last, keeping the service's key order
            candidate.pop("finishReason", None)
            candidate["finishReason"] = reason
            if reason == "SAFETY":
                candidate["safetyRatings"] = safety_ratings("HARM_CATEGORY_DANGEROUS_CONTENT")
            pieces = texts.get(index, [])
            if reason == "RECITATION" and pieces:
                # Offsets are BYTES of the UTF-8 text, as the service counts them.
                before = "".join(pieces[:-1]).encode("utf-8")
                cited = pieces[-1].encode("utf-8")
                candidate["citationMetadata"] = {"citationSources": [{
                    "startIndex": len(before), "endIndex": len(before) + len(cited), "uri": CITATION_URI}]}
            candidate["index"] = index

    def blocked(self) -> dict:
        reason = str(self.fault.get("reason", "SAFETY"))
        feedback = {"blockReason": reason, "safetyRatings": safety_ratings(
            "HARM_CATEGORY_DANGEROUS_CONTENT" if reason == "SAFETY" else None)}
        usage = {"promptTokenCount": self.prompt_tokens, "totalTokenCount": self.prompt_tokens,
                 "promptTokensDetails": self.prompt_details}
        return {"promptFeedback": feedback, "usageMetadata": usage, "modelVersion": self.version,
                "responseId": self.response_id}

    # -- unary ----------------------------------------------------------------------------------
    def unary(self) -> dict:
        """The generateContent answer: the stream's events merged into one response."""
        events = self.events()
        if self.kind == "block_prompt":
            return events[0]
        merged: dict[int, dict] = {}
        for event in events:
            for candidate in event["candidates"]:
                index = candidate["index"]
                target = merged.setdefault(index, {"thought": "", "text": "", "extra": {}})
                for part in candidate["content"]["parts"]:
                    if "text" not in part:  # an image or audio part, kept as it is
                        target.setdefault("media", []).append(part)
                        continue
                    target["thought" if part.get("thought") else "text"] += part["text"]
                for key in ("finishReason", "safetyRatings", "citationMetadata"):
                    if key in candidate:
                        target["extra"][key] = candidate[key]
        candidates = []
        for index in sorted(merged):
            item = merged[index]
            parts = [{"text": item["thought"], "thought": True}] if item["thought"] else []
            if item["text"] or not item.get("media"):
                parts.append({"text": item["text"]})
            parts.extend(item.get("media", []))
            candidate = {"content": {"parts": parts, "role": "model"}}
            candidate.update({k: v for k, v in item["extra"].items() if k == "finishReason"})
            candidate.update({k: v for k, v in item["extra"].items() if k != "finishReason"})
            candidate["index"] = index
            candidates.append(candidate)
        return self._event(candidates, events[-1]["usageMetadata"])

