"""The emulator's activity detection for Live realtime audio, and the pixel size of a JPEG frame.

Automatic (the service's default): 16 kHz 16-bit PCM is read in 20 ms windows; a window whose mean
absolute sample is above the loudness threshold is speech. Speech starts at its first loud window and
ends once `silence_ms` of quiet windows follow its last one; the turn heard lasts from the first to the
end of the last loud window. Manual (`automaticActivityDetection.disabled`): `activityStart` and
`activityEnd` bound the turn, and everything heard between them counts.
"""

from __future__ import annotations

import struct

WINDOW_SECONDS = 0.02
DEFAULT_SILENCE_MS = 800


class Activity:
    """Where the user's speech starts and ends, chunk by chunk (see the module docstring)."""

    def __init__(self, automatic: bool = True, silence_ms: int | float | None = None) -> None:
        self.automatic = automatic
        self.silence = float(silence_ms if silence_ms else DEFAULT_SILENCE_MS) / 1000
        self.ended_once = False   # a spoken turn was ended by detection (trailing quiet is no turn)
        self.reset()

    def reset(self) -> None:
        self.speaking = False
        self.speech = 0.0         # seconds from the first loud window to the end of the last one
        self.quiet = 0.0          # seconds of quiet since the last loud window
        self.manual_heard = 0.0
        self.active = False       # between activityStart and activityEnd (manual)

    def hear(self, samples, loud: float, rate: int) -> float | None:
        """Take one chunk of samples (array of int16); the seconds of speech when this chunk ended a
        spoken turn (automatic detection), else None."""
        if not self.automatic:
            if self.active:
                self.manual_heard += len(samples) / rate
            return None
        size = max(1, int(rate * WINDOW_SECONDS))
        ended = None
        for start in range(0, len(samples), size):
            window = samples[start:start + size]
            seconds = len(window) / rate
            step = window[::4]
            is_loud = bool(step) and sum(abs(s) for s in step) / len(step) > loud
            if is_loud:
                if self.speaking:
                    self.speech += self.quiet
                self.speaking, self.quiet = True, 0.0
                self.speech += seconds
            elif self.speaking:
                self.quiet += seconds
                if self.quiet >= self.silence:
                    ended = self.speech
                    self.speaking, self.speech, self.quiet = False, 0.0, 0.0
                    self.ended_once = True
        return ended

    def start(self) -> None:
        self.active, self.manual_heard = True, 0.0

    def end(self) -> float | None:
        """activityEnd: the seconds heard since activityStart (manual), or None when nothing was heard."""
        heard, self.active, self.manual_heard = self.manual_heard, False, 0.0
        return heard or None


def jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    """(width, height) from a JPEG's start-of-frame marker, (None, None) when it has none."""
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None, None
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", data[index + 2:index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            return width, height
        index += 2 + length
    return None, None


__all__ = ["Activity", "DEFAULT_SILENCE_MS", "jpeg_size"]
