"""The README tells the truth: its options reference is the magics' own help, its commands work.

- The block between `<!-- gemini-help:start -->` and `<!-- gemini-help:end -->` is generated from the
  magics' argument parsers, docstrings and configurable traits (what `%%gemini?`, `%gemini_upload?`
  and `%config GeminiMagics` show). When the help changes, regenerate it:

      python tests/test_readme.py update

- The README's test command is the one `.ci/run` runs, verbatim; its install command names extras
  that pyproject.toml defines; the launcher it names prints a URL that answers 200.
- Files and images the README links to exist; every notebook is mentioned; every environment
  variable the package reads is documented.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gemini_magic.magics.help import help_markdown, table_cell

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- gemini-help:start -->", "<!-- gemini-help:end -->"
LAUNCH_TIMEOUT = 180  # seconds until the launcher prints its URL (JupyterLab's first start can be slow)


# -- the generated reference ------------------------------------------------------------------------

def _trait_rows() -> list[str]:
    from gemini_magic.magics import GeminiMagics

    magics = GeminiMagics(shell=None)
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for name in sorted(magics.trait_names(config=True)):
        trait = magics.traits()[name]
        rows.append(f"| `GeminiMagics.{name}` | `{getattr(magics, name)!r}` | {table_cell(trait.help)} |")
    return rows


def help_block() -> str:
    """The README's options reference: the magics' own help (what `%gemini --help` shows) and traits."""
    from gemini_magic.magics import GeminiMagics

    lines = [
        START,
        "<!-- Generated from the magics' help by `python tests/test_readme.py update`: do not edit by hand. -->",
        "",
        help_markdown(GeminiMagics.gemini, "`%%gemini` and `%gemini`"),
        "",
        help_markdown(GeminiMagics.gemini_upload, "`%gemini_upload`"),
        "",
        "#### Settings: `%config GeminiMagics.<name> = <value>`",
        "",
        *_trait_rows(),
        "",
        END,
    ]
    return "\n".join(lines)


def readme_block(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def update_readme() -> bool:
    """Rewrite the README's generated block; True when it changed."""
    text = README.read_text(encoding="utf-8")
    new = text.replace(readme_block(text), help_block())
    if new != text:
        README.write_text(new, encoding="utf-8")
    return new != text


def test_options_reference_matches_the_help():
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, f"the README needs one {START} ... {END} block"
    assert readme_block(text) == help_block(), \
        "the README's options reference is out of date: run `python tests/test_readme.py update`"


def test_reference_covers_every_option():
    """The generator misses nothing the parsers know (guards the generator itself)."""
    from gemini_magic.magics import GeminiMagics

    block = help_block()
    for magic in (GeminiMagics.gemini, GeminiMagics.gemini_upload):
        for action in magic.parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in block, option
    for name in GeminiMagics.class_trait_names(config=True):
        assert f"`GeminiMagics.{name}`" in block, name


# -- the two commands -------------------------------------------------------------------------------

def readme_commands() -> dict[str, str]:
    """The README's two commands: the ```bash lines that end in `# 1: ...` (main job) and `# 2: ...` (tests)."""
    text = README.read_text(encoding="utf-8")
    commands = {}
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            found = re.fullmatch(r"(.+?)\s+# ([12]): .+", line.strip())
            if found:
                commands[{"1": "main job", "2": "tests"}[found.group(2)]] = found.group(1)
    assert set(commands) == {"main job", "tests"}, f"the README's two commands were not found: {commands}"
    return commands


def test_the_test_command_is_what_ci_runs():
    command = readme_commands()["tests"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines(), f".ci/run must run the README's test command verbatim: {command!r}"


def test_install_commands_name_defined_extras():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for label, command in readme_commands().items():
        for group in re.findall(r"\.\[([\w,-]+)\]", command):
            for extra in group.split(","):
                assert extra in extras, f"the README's {label} command installs .[{extra}], which pyproject.toml lacks"
    needed = ("jupyterlab", "notebook", "ipykernel", "pandas", "numpy", "matplotlib")
    main_extras = re.findall(r"\.\[([\w,-]+)\]", readme_commands()["main job"])[0].split(",")
    requirements = " ".join(" ".join(extras.get(extra, [])) for extra in main_extras)
    missing = [name for name in needed if not re.search(rf"(^|\s){name}\b", requirements)]
    assert not missing, f"the main job's extras {main_extras} do not install {missing}"


def test_main_job_runs_the_launcher():
    command = readme_commands()["main job"]
    assert command.endswith("python notebooks/launch.py"), command
    assert (ROOT / "notebooks" / "launch.py").is_file()


def _load_launcher():
    spec = importlib.util.spec_from_file_location("gemini_magic_launch", ROOT / "notebooks" / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launcher_announces_the_backend():
    launch = _load_launcher()
    assert "local Gemini emulator" in launch.describe_backend({})
    assert "real Gemini API, key from GOOGLE_API_KEY" in launch.describe_backend({"GOOGLE_API_KEY": "k"})
    assert "key from GEMINI_API_KEY" in launch.describe_backend({"GEMINI_API_KEY": "k"})
    line = launch.describe_backend({"GOOGLE_API_KEY": "secret-key", "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9"})
    assert "http://127.0.0.1:9" in line and "secret-key" not in line


def test_launcher_falls_back_to_a_free_port():
    import socket

    launch = _load_launcher()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not launch.port_is_free(port)
        with pytest.raises(SystemExit, match=f"Port {port} is in use"):
            launch.pick_port(port)
    assert launch.pick_port(0) > 0
    chosen = launch.pick_port(None)
    assert launch.port_is_free(chosen)


def test_launcher_prints_a_working_url(tmp_path):
    """`python notebooks/launch.py` as a newcomer runs it: no key, no display; the URL it prints answers 200,
    and Ctrl-C stops the launcher and the JupyterLab it started."""
    for module in ("jupyterlab", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{module} is not installed (pip install -e '.[notebooks]')")
            pytest.skip(f"{module} is not installed (pip install -e '.[notebooks]')")
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "DISPLAY",
                           "WAYLAND_DISPLAY")}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())  # leave the machine's Jupyter settings alone
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "notebooks/launch.py"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/lab/tree/quickstart\.ipynb\?token=\w+", line)
            url = found.group(0) if found else None
        output = "".join(lines)
        assert url, f"the launcher printed no URL within {LAUNCH_TIMEOUT} s:\n{output}"
        print(f"\nlauncher ready after {time.monotonic() - started:.1f} s")
        assert output.startswith("Backend: the local Gemini emulator"), output
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=30) as answer:
            assert answer.status == 200
            assert b"JupyterLab" in answer.read()
        port = int(re.search(r":(\d+)/", url).group(1))
        assert_kernel_websocket_compressed(opener, f"http://127.0.0.1:{port}", url.rsplit("token=", 1)[1])
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            rest, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
    assert process.returncode == 0, f"the launcher did not stop cleanly ({process.returncode}):\n{''.join(lines)}{rest}"
    assert "Stopping JupyterLab" in rest
    import socket

    with socket.socket() as probe:  # the launcher stopped Jupyter too: its port is free again
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "JupyterLab still listens after the launcher stopped"


def assert_kernel_websocket_compressed(opener, base: str, token: str) -> None:
    """The launcher's server accepts permessage-deflate on a kernel's websocket (the voice widget's bytes:
    gemini_magic/voice/widget.py): a kernel started over the REST API, its channels opened by a client
    that offers the extension, the server's answer read, the kernel shut down."""
    from websockets.sync.client import connect

    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{base}/api/kernels", data=b"{}", headers=headers, method="POST")
    with opener.open(request, timeout=60) as answer:
        kernel = json.loads(answer.read())["id"]
    try:
        with connect(f"ws://{base.split('://', 1)[1]}/api/kernels/{kernel}/channels",
                     additional_headers={"Authorization": f"token {token}"}, proxy=None, open_timeout=30) as socket:
            agreed = socket.response.headers.get("Sec-WebSocket-Extensions", "")
        assert "permessage-deflate" in agreed, f"the kernel websocket is not compressed: {agreed!r}"
    finally:
        opener.open(urllib.request.Request(f"{base}/api/kernels/{kernel}", headers=headers, method="DELETE"),
                    timeout=60).close()


# -- the plain-Python examples ----------------------------------------------------------------------

def plain_python_blocks() -> list[str]:
    """The ```python blocks of the README's "Plain Python" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Plain Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_plain_python_examples_run(emulator, monkeypatch, capsys):
    """Run as written, pointed at the emulator by the environment variables the README documents."""
    monkeypatch.setenv("GOOGLE_API_KEY", "any-value")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    from gemini_magic.parts import registry

    blocks = plain_python_blocks()
    assert len(blocks) >= 2, "the Plain Python section lost its examples"
    saved = registry.snapshot()
    try:
        for block in blocks:
            exec(compile(block, "README.md (Plain Python)", "exec"), {"__name__": "readme_example"})
    finally:
        registry.restore(saved)
    printed = capsys.readouterr().out
    assert "PNG image, 64 x 48" in printed, printed      # the photo arrived as an image
    assert "STOP" in printed and '**Prompt:** "Count to five."' in printed  # the streamed answer, whole
    from gemini_magic import Client

    assert Client().list_files() == [], "the example deletes the file it uploads"


# -- links and coverage -----------------------------------------------------------------------------

def test_relative_links_exist():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) + re.findall(r'src="([^"]+)"', text)
    local = [target for target in targets if not re.match(r"[a-z]+:", target)]
    assert local, "the README links to no files of the project"
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, f"the README links to missing files: {missing}"


def test_every_notebook_and_variable_is_mentioned():
    from gemini_magic.constants import API_KEY_ENV_VARS, BASE_URL_ENV_VAR

    text = README.read_text(encoding="utf-8")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{notebook.name}" in text, notebook.name
    for variable in (*API_KEY_ENV_VARS, BASE_URL_ENV_VAR):
        assert f"`{variable}`" in text, variable


if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python tests/test_readme.py update   (rewrites the README's generated options reference)")
    sys.path.insert(0, str(ROOT))
    print("README.md updated." if update_readme() else "README.md was already up to date.")


def test_the_tools_example_makes_the_call(shell, emulator):
    """The README's `--tools` example, run as written against the emulator: the model calls get_rainfall."""
    pandas = pytest.importorskip("pandas")
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### Kernel functions and built-in tools", 1)[1].split("\n### ", 1)[0]
    definition, cell = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    assert "def get_rainfall" in definition and cell.startswith("%%gemini --tools get_rainfall")
    shell.user_ns["rainfall_df"] = pandas.DataFrame(
        {"mm": [795.6, 131.0]}, index=pandas.MultiIndex.from_tuples([("Huế", 10), ("Hà Nội", 10)]))
    shell.run_cell(definition)
    line, body = cell.split("\n", 1)
    shell.run_cell_magic("gemini", line.removeprefix("%%gemini "), body)
    response = shell.user_ns["_gemini"]
    sent = [part for content in emulator.requests[-1].json["contents"] for part in content["parts"]]
    assert [part["functionCall"]["args"] for part in sent if "functionCall" in part] == [{"city": "Huế", "month": 10}]
    assert [part["functionResponse"]["name"] for part in sent if "functionResponse" in part] == ["get_rainfall"]
    assert "get_rainfall returned 795.6" in response.text
