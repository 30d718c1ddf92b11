"""The answer model: what the service sent back, merged and closed at one point. No views, no HTTP.

- `response.py`: `Response`, merged from `generateContent` chunks and closed at one point (`close`);
- `candidate.py`: `Candidate`, one candidate's parts, merged as chunks arrive;
- `closing.py`: `ClosedOnce`, the one commit point (`close`) of `Response` and `Interaction`;
- `readers.py`: `AnswerReaders`, the properties that read a merged answer (`.text`, `.usage`, `.parsed` ...);
- `interaction.py`: `Interaction`, merged from the Interactions API's events;
- `live_turn.py`: `LiveTurn`, one turn of a Live session;
- `part_kinds.py`: the one table of part kinds every view and description asks;
- `citations.py`: citation and grounding offsets turned from UTF-8 bytes into characters;
- `media_out.py`: media the model made (PCM speech to WAV, images) and the only file output here.

Import from the modules (`from gemini_magic.answer.response import Response`); `gemini_magic.Response`
is the public name.
"""
