"""A notebook with %%gemini cells, executed by nbclient through a real kernel against the emulator:
the saved .ipynb holds the final Markdown answer as plain display data, once, with no widget needed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gemini_emulator import Emulator

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.mark.notebook
def test_saved_notebook_holds_the_answer_as_markdown(tmp_path):
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext gemini_magic"),
        nbformat.v4.new_code_cell("%%gemini -o first\nWrite a haiku about saved notebooks."),
        nbformat.v4.new_code_cell("%gemini --no-stream One more, please."),
        nbformat.v4.new_code_cell("print(len(first.text) > 0, first.finish_reason)"),
    ]
    with Emulator(pace=0.01) as emulator:
        env = {**os.environ, "GOOGLE_API_KEY": "nbclient-test-key", "GOOGLE_GEMINI_BASE_URL": emulator.base_url}
        client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.km = client.kernel_manager_class(kernel_name="python3", config=client.config)
        client.execute(env=env)
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    saved = nbformat.read(path, as_version=4)

    for index in (1, 2):
        outputs = saved.cells[index].outputs
        markdown = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")
                    and "text/markdown" in o.get("data", {})]
        assert len(markdown) == 1, outputs  # the answer, once
        text = markdown[0]["data"]["text/markdown"]
        assert text.startswith("[gemini_magic emulator]") and '**Prompt:** "' in text
        assert "STOP · tokens:" in text  # the footer travels with the answer
        assert "text/plain" in markdown[0]["data"]
        assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "Write a haiku about saved notebooks." in saved.cells[1].outputs[-1]["data"]["text/markdown"]
    assert saved.cells[3].outputs[0]["text"].strip() == "True STOP"
    html = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--stdout", str(path)],
                          capture_output=True, text=True)
    if html.returncode == 0:  # nbconvert comes with jupyterlab; a saved notebook renders without a kernel
        assert "was not asked: the local emulator echoes" in html.stdout and "nbclient-test-key" not in html.stdout
    assert "nbclient-test-key" not in path.read_text()
