"""The notebooks in notebooks/ run top to bottom against the emulator, as a newcomer with no key runs them.

Each notebook is executed with nbclient in a real `python3` kernel whose environment has no API key
and no base URL, so its first cell (`%gemini backend`) starts the in-kernel emulator. A run fails on
any error output (but in a cell tagged `raises-exception`, nbclient's mark of an error shown on purpose), on a traceback written to stderr, and when the outputs lack what the notebook is
there to show. Executed copies are written to a temporary folder (the path is printed), never into
notebooks/; the committed notebooks must hold no outputs.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from gemini_magic.constants import EMULATOR_MARKER

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
FIRST_CELL = "%load_ext gemini_magic\n%gemini backend"
CELL_TIMEOUT = 120  # seconds; each notebook takes a few seconds against the emulator

# What each notebook must show: (what, regular expression over the text of all its outputs).
EXPECTED = {
    "quickstart.ipynb": [
        ("a streamed Markdown answer", re.escape(EMULATOR_MARKER) + r" gemini-2\.5-flash was not asked.*## A sample of Markdown"),
        ("options reached the request", r"\*\*System instruction:\*\* \"Answer in one sentence.\""),
        ("options reached the request", r"temperature=0\.2"),
        ("{name} and {{ }} in the prompt", r"where does the Vistula start and end\? Use \{curly braces\}"),
        ("%gemini config", r"`GeminiMagics\.temperature` = `0\.4`"),
        ("%config reached the request", r"You are a patient teacher"),
        ("the result object's footer", r"gemini-2\.5-flash-emulator · STOP · tokens:"),
        ("%gemini models", r"\| `gemini-2\.5-pro` \| Gemini 2\.5 Pro \|"),
        ("the plain-Python client", r"'promptTokenCount': \d+"),
    ],
    "multimodal.ipynb": [
        ("a PIL image", r"PNG image, 640 x 400"),
        ("a DataFrame", r"CSV table, 12 rows"),
        ("a matplotlib figure", r"PNG image, \d+ x \d+, mode RGBA"),
        ("WAV audio", r"WAV audio, 2\.00 s, 1 channel, 16000 Hz"),
        ("a PDF", r"PDF document, 2 pages"),
        ("--dry-run", r"Dry run for gemini-2\.5-flash: \d+ parts?, .*tokens? \(countTokens\), ≈ .{0,80}for the prompt[^.]*\. Nothing was generated"),
        ("an image-shaped array in the dry run", r"PNG 256x96"),
    ],
    "files.ipynb": [
        ("the upload", r"Uploaded siren\.wav as files/\w+: audio/wav, 5,292,044 bytes, ACTIVE"),
        ("reuse", r"Reused siren\.wav as files/\w+ \(the same content was already uploaded\)"),
        ("reuse", r"reused: True \| same file: True"),
        ("the file in a prompt", r"file files/\w+ \(audio/wav, 5,292,044 bytes\): WAV audio, 30\.00 s, 2 channels"),
        ("%gemini files", r"\| `files/\w+` \| siren\.wav \| audio/wav \|"),
        ("deleting", r"Deleted 1 file: "),
        ("an empty list at the end", r"No uploaded files"),
    ],
    "conversations.ipynb": [
        ("the first turn", r"I have two dogs and a cat"),
        ("the history arrived", r"turn 3, with 2 earlier turns received"),
        ("the turns as a Python object", r"3 turns; \['user', 'model', 'user', 'model', 'user', 'model'\]"),
        ("the transcript", r"### Turn 2"),
        ("undo", r"2 turns left"),
        ("the Interactions API", r"\[('[\w-]+', ){1}'[\w-]+'\]"),
        ("{In[k]}", r"def average\(values\)"),
        ("save and load", r"2 turns\nTrue"),
    ],
    "exploring_responses.ipynb": [
        ("thoughts", r"<details><summary>Thoughts</summary>"),
        ("thoughts apart from the answer", r"THOUGHTS:\n\*\*Reading the prompt\*\*"),
        ("two candidates", r"0 STOP '.*'\n1 STOP '"),
        ("usage", r"'totalTokenCount': \d+"),
        ("safety", r"safety ratings: \[\]"),
        ("raw chunks", r"\d+ chunks"),
        ("--raw", r"x-goog-api-key: \[REDACTED\]"),
        (".images", r"list of 1 image\n"),
        (".json()", r"\('dict',"),
        ("the rich repr", r"<details"),
    ],
    "tools.ipynb": [
        ("the declaration from the docstring", r"'description': 'The month, 1 \(January\) to 12 \(December\)\.'"),
        ("a call run in the kernel", r"get_rainfall\W+city\W+Huế\W+month\W+10\W.*get_rainfall returned 795\.6"),
        ("parallel calls", r"get_rainfall returned 131\.0\n- get_temperature returned 24\.6"),
        ("a chain", r"wettest_city returned Huế\n- get_rainfall returned 580\.6"),
        ("a raising tool's error sent back", r"get_rainfall failed: KeyError: 'no rainfall data for Đà Lạt in month 10'"),
        ("--tool-mode manual", r"get_rainfall \{'city': 'Hồ Chí Minh', 'month': 11\}"),
        ("--max-calls", r"Stopped after 2 function calls.*\n2 tool steps ran"),
        ("--code", r"print\(f\"\{len\(words\)\} words.*\b14 words, 77 characters"),
        ("--search: citation markers", r"sông Hương\.\W{0,3}1\W.*Mùa mưa ở Huế"),
        ("--search: citations at the right characters", r"180-238 'Mùa mưa ở Huế kéo dài"),
        ("tools in --chat", r"2 turns; \['user', 'model', 'user', 'model', 'user', 'model', 'user', 'model'\]"),
        ("plain Python steps", r"tool \[\('get_rainfall', \{'city': 'Huế', 'month': 10\}, 795\.6\)\]"),
        ("plain Python citations", r"3 cited spans\n'Huế là cố đô"),
    ],
    "typed_answers.ipynb": [
        ("list[Place] parsed", r"list of 3 Place\b"),
        ("a Place", r"Place\(name='\w+', province='\w+', rainfall_mm=[\d.]+, pet_friendly=(True|False)\)"),
        ("to_pandas()", r"\['name', 'province', 'rainfall_mm', 'pet_friendly'\] \(3, 4\)"),
        ("a typed result in the next prompt", r"pandas DataFrame: 3 rows x 4 columns"),
        ("json_schema()", r"'rainfall_mm': \{'type': 'number'\}"),
        ("an Enum classification", r"<Sentiment\.POSITIVE: 'positive'>"),
        ("nested dataclasses", r"Restaurant with 3 dishes of type Dish"),
        ("a TypedDict", r"dict \['city', 'month', 'rainy_days'\]"),
        ("pydantic (or its stand-in)", r"Festival \[1, 2, 3\]"),
        ("a cut answer's clear message", r"MAX_TOKENS '.*\nThe answer is not valid JSON: the token limit cut it"),
        ("plain Python", r"\['\w+', '\w+', '\w+'\]\nSentiment\.POSITIVE"),
    ],
    "rows.ipynb": [
        ("the frame of answers", r"DataFrame \(240, 5\) \['text', 'finish_reason', 'prompt_tokens', 'output_tokens', 'error'\]"),
        ("the input's index, no failed row", r"same index: True \| failed rows: 0"),
        ("each row's own prompt", r"The (\w+) ([\w ]+)\. -> .{0,200}Prompt:\*\* \"Classify [^\n]*: The \1 \2\. \(rating"),
        ("the progress line", r"240 of 240 rows · "),
        ("--schema columns", r"\['text', 'finish_reason', 'prompt_tokens', 'output_tokens', 'error', 'sentiment', 'confidence'\]"),
        ("--into", r"Verdict in sample\.verdict for 12 rows"),
        ("--dry-run", r"Dry run\*\* of 240 rows.*about [\d,]+ input tokens for all 240 rows"),
        ("a re-run sends nothing", r"re-run of 240 rows in 0\.\d\d s"),
        ("--batch shows the job's name", r"Started batch job `batches/\w+` \(12 requests\)"),
        ("--batch binds the frame", r"\(12, 5\) True True"),
        ("%gemini batches", r"\| `batches/\w+` \| gemini_magic sample #[0-9a-f]{12} \| SUCCEEDED \|"),
        ("%gemini embed", r"float32 \(240, 64\)"),
        ("%gemini embed --batch", r"Started embedding batch job `batches/\w+` \(240 texts\).*\nTrue"),
        ("plain Python", r"\['STOP', 'STOP', 'STOP'\] True\n+\(5, 5\).*SUCCEEDED \['STOP', 'STOP'\]\n+\(2, 8\)"),
    ],
    "assistant.ipynb": [
        ("--new-cell", r"The answer's code \(\d+ lines?\) is in a new cell below, not run"),
        ("the code instruction reached the request", r"You write code for a Jupyter notebook running a python kernel"),
        ("the cost in the footer", r"gemini-2\.5-flash-emulator · STOP · tokens: .* · ≈ \\?\$0\.\d+ \(prices of \d{4}-\d\d-\d\d\)"),
        ("the failing cell", r"KeyError: 'plum'"),
        ("%gemini fix sent the cell and its variables", r"This notebook cell \(In\[\d+\]\) failed.*- prices: dict of 2"),
        ("the instruction after --", r"Also: use dict\.get with a default"),
        ("{notebook}", r"The notebook so far \(\d+ cells\)"),
        ("{vars}", r"The user's variables:.*- prices: dict of 2"),
        ("--dry-run estimate", r"\(countTokens\), ≈ \\?\$0\.\d+ \(prices of [\d-]+\) for the prompt"),
        ("a chat's running total", r"talk · turn 2 · [\d,]+ tokens so far · ≈ \\?\$0\.\d+ so far"),
        ("max_cost refuses", r"above max_cost \$0\.000001\d*; nothing was sent"),
        ("plain Python", r"cost \$0\.\d+ on 2026-10-07 \| code: True \| chat \$0\.\d+"),
    ],
    "media_and_caching.ipynb": [
        ("an image made at 16:9", r"1344x768 \(16:9\)"),
        ("picture.images and save_images", r"1 image: \(1344, 768\) RGB\n\['image-1\.png'\] True"),
        ("the image in the next prompt", r"PNG image, 1344 x 768"),
        ("speech as WAV", r"bytes of WAV: \d\.\d\d s, 1 channel, 24000 Hz, 16-bit"),
        ("cache create", r"Cached 2,683 tokens for gemini-2\.5-flash as cachedContents/\w+"),
        ("the cache used", r"Cached content:\*\* cachedContents/\w+ \(2,683 tokens"),
        ("cached tokens in usage", r"2683 cached tokens of \d+ in the prompt"),
        ("cache list", r"cachedContents/\w+\W.{0,40}gemini-2\.5-flash\W+2,683"),
        ("cache extend", r"now expires in (1 h 59 min|2 h)"),
        ("cache delete", r"Deleted 1 cached content"),
        ("plain Python", r"\(1024, 1024\)\n.*\d+ cached tokens.*0 caches left"),
    ],
    "live.ipynb": [
        ("a typed turn answered in speech, with its transcript",
         re.escape(EMULATOR_MARKER) + r" Live turn 1 from gemini-2\.5-flash-native-audio[\w-]*: you said “What is the "
         r"capital of Vietnam\?”.*live · turn 1"),
        ("a kernel function called mid-session", r"get_rainfall returned 795\.6.*live · turn 2.*"
                                                 r"get_rainfall \{'city': 'Huế', 'month': 10\} 795\.6\nturn 2: \d+\.\d s of speech"),
        ("a sound made in the notebook heard as speech", r"\(1\.5 s of audio\)\n.*Live turn 3 .*you spoke for 1\.5 s"),
        ("a resumption after goAway", r"Resumed the session after goAway \(resumption 1\).*"
                                      r"1 resumption; \[1, 2\]"),
        ("the sessions listed and closed", r"\| `away` \|.*open \| 2 \|.*Closed the Live session away after 2 turns"),
        ("the voice widget left the conversation when the session closed",
         r"Live session live with gemini-[\w.-]+: 3 turn\(s\), ended\.\nYou: What is the capital of Vietnam\?"),
        ("the voice widget ended with its session", r"voice widget ended: True \| <voice widget of Live session live: ended>"),
    ],
    "video_and_images.ipynb": [
        ("an image made at 3:2", r"1248x832 \(3:2\)"),
        ("a kernel image edited", r"\(320, 200\) \(1248, 832\).*Make the red circle a blue"),
        ("a video from text", r"veo-3\.1-generate-preview: 1 video in \d+ s · models/veo-3\.1-generate-preview/operations/"),
        ("the Video and its operation", r"<Video video/mp4, 2\.0 s, 17\.7 kB; from models/veo.*succeeded"),
        ("a re-run pays nothing", r"already made this video .* nothing new was generated"),
        ("saved to disk", r"moving\.mp4 17667 bytes, 2\.0 s b'ftyp'"),
        ("plain Python, re-attached", r"succeeded 17667 bytes\n+2 images \(1344, 768\)"),
        ("Imagen retired", r"NotFoundError - 404 NOT_FOUND: Imagen's :predict was switched off"),
    ],
}


# Display data a notebook must leave in its saved outputs: (what, mime type, text the data holds).
EXPECTED_DATA = {
    "live.ipynb": [
        ("the spoken answer's player", "text/html", "<audio controls"),
    ],
    "media_and_caching.ipynb": [
        ("the answer's image", "image/png", ""),
        ("an audio player", "text/html", "<audio controls"),
    ],
    "video_and_images.ipynb": [
        ("an inline video player", "text/html", '<video controls preload="metadata" style="max-width:100%" '
                                                'src="data:video/mp4;base64,AAAA'),
        ("generated images", "text/html", '<img style="max-width:48%;margin:2px" alt="generated image" '
                                          'src="data:image/png;base64,'),
    ],
}


def test_every_notebook_is_listed():
    assert ALL, f"no notebooks in {NOTEBOOKS}"
    assert sorted(EXPECTED) == ALL, "every notebook needs its expectations in EXPECTED (and vice versa)"


@pytest.mark.parametrize("name", ALL)
def test_notebook_is_committed_clean(name):
    """No outputs, the python3 kernelspec, and the backend announced in the first code cell."""
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert "".join(code[0]["source"]).strip() == FIRST_CELL
    assert notebook["cells"][0]["cell_type"] == "markdown", "a notebook opens with a word to the reader"
    dirty = [index for index, cell in enumerate(code) if cell["outputs"] or cell["execution_count"] is not None]
    assert not dirty, f"{name}: code cells {dirty} hold outputs; clear them before committing"
    for cell in code:
        source = "".join(cell["source"])
        assert not re.search(r"https?://", source), f"{name} fetches something from the network:\n{source}"


@pytest.mark.notebook
@pytest.mark.parametrize("name", ALL)
def test_notebook_runs_against_the_emulator(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel inherits this environment (the autouse fixture already removed any key and base URL).
    project = str(NOTEBOOKS.parent)
    monkeypatch.setenv("PYTHONPATH", project)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))   # no startup files of the machine
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    work = tmp_path / "work"
    work.mkdir()

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(work)}})
    started = time.monotonic()
    client.execute()
    elapsed = time.monotonic() - started
    executed = tmp_path / name
    nbformat.write(notebook, executed)
    print(f"\n{name}: {elapsed:.1f} s, executed copy at {executed}")

    problems = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        for output in cell.outputs:
            if output.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                problems.append(f"code cell {index} raised {output.ename}: {output.evalue}\n{cell.source}")
            elif output.output_type == "stream" and output.name == "stderr" and "Traceback" in output.text:
                problems.append(f"code cell {index} wrote a traceback to stderr:\n{output.text}")
    assert not problems, "\n\n".join(problems)

    first = outputs_text(code_cells[0])
    assert "Using the **local Gemini emulator**" in first, f"the first cell must announce the emulator: {first!r}"
    assert not list(work.iterdir()), f"{name} left files behind: {sorted(p.name for p in work.iterdir())}"

    answers = [output for cell in code_cells for output in cell.outputs
               if output.output_type == "display_data" and EMULATOR_MARKER in output.data.get("text/markdown", "")]
    assert answers, "no answer was left as plain Markdown display data"
    assert all(EMULATOR_MARKER in output.data.get("text/plain", "") for output in answers), \
        "answers need a text/plain copy too (terminals, GitHub's renderer)"

    saved = nbformat.read(executed, as_version=4)  # what the .ipynb holds, as a person opens it later
    outputs = [output for cell in saved.cells if cell.cell_type == "code" for output in cell.outputs
               if "data" in output]
    for what, mime, needle in EXPECTED_DATA.get(name, ()):
        assert any(needle in str(output.data.get(mime, "")) and mime in output.data for output in outputs), \
            f"{name}: the saved notebook has no {mime} output for {what}"

    text = "\n".join(outputs_text(cell) for cell in code_cells)
    missing = [what for what, pattern in EXPECTED[name] if not re.search(pattern, text, re.S)]
    assert not missing, f"{name} does not show: {', '.join(missing)} (executed copy: {executed})"


def outputs_text(cell) -> str:
    """The text of a cell's outputs: streams, and the Markdown/HTML/plain text of display data."""
    pieces = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            pieces.append(output.text)
        elif "data" in output:
            for mime in ("text/markdown", "text/html", "text/plain"):
                if mime in output.data:
                    pieces.append(str(output.data[mime]))
    return "\n".join(pieces)
