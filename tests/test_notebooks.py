"""Every notebook in ``docs/notebooks/`` runs from top to bottom without an error.

The notebooks run in a Jupyter kernel started from this interpreter
(``sys.executable``), through a kernel spec written into a temporary
``JUPYTER_PATH``, so whatever kernels the machine has installed do not
matter.  The kernel talks to this process over local ZeroMQ ports only.
Notebooks are stored without outputs; a test checks that too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
KERNEL = "crmkit-tests"
#: Seconds one cell may take; the whole tutorial takes a few seconds.
CELL_TIMEOUT = 120


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A kernel spec named :data:`KERNEL` for this interpreter, found first on ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "crmkit tests",
                "language": "python",
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
            }
        ),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        mp.setenv("JUPYTER_PLATFORM_DIRS", "1")
        mp.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        mp.setenv("JUPYTER_CONFIG_DIR", str(root / "config"))
        mp.setenv("JUPYTER_DATA_DIR", str(root / "data"))
        mp.setenv("JUPYTER_RUNTIME_DIR", str(root / "runtime"))
        mp.setenv("IPYTHONDIR", str(root / "ipython"))
        yield


def _read(path: Path) -> Any:
    """The notebook at *path* (nbformat 4); nbformat has no type hints."""
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def _run(path: Path) -> Any:
    notebook = _read(path)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def _outputs(notebook: Any) -> list[tuple[str, str]]:
    """(mime type or stream name, text) of every output, in order."""
    out: list[tuple[str, str]] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                out.append((output["name"], output["text"]))
            elif output["output_type"] in ("execute_result", "display_data"):
                for mime, data in output["data"].items():
                    out.append((mime, data if isinstance(data, str) else "".join(data)))
            elif output["output_type"] == "error":  # pragma: no cover - execute() raises first
                out.append(("error", output["ename"]))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = _read(path)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: clear the outputs before committing"
            assert cell.execution_count is None


@pytest.mark.usefixtures("kernel_env")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_errors(path: Path) -> None:
    notebook = _run(path)
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o[0] in ("error", "stderr") and "Traceback" in o[1]]
    if path.name == "tutorial.ipynb":
        _check_tutorial(outputs)


def _check_tutorial(outputs: list[tuple[str, str]]) -> None:
    streams = "\n".join(t for mime, t in outputs if mime == "stdout")
    html = "\n".join(t for mime, t in outputs if mime == "text/html")
    # the dry run found the broken cells, in German too
    assert "Zeile 3, Spalte 'Telefon': 'O711 123456' ist keine Telefonnummer" in streams
    assert "Zeile 8, Spalte 'PLZ': '0304' ist keine gültige Postleitzahl" in streams
    assert "<td>csv.row_without_name</td>" in html
    # after the fixes nothing was left to report, and every row was imported
    assert "9 Zeilen gelesen: 13 Kontakte angelegt, 6 Zugehörigkeiten" in streams
    assert "0 problems</b>" in html
    # result tables escape user data; two charts came out as images
    assert "Müller &amp; Söhne GmbH" in html
    assert "<caption><b>C00004 Bäckerei Weiß e.K.</b></caption>" in html
    assert "Müller & Söhne" not in html
    assert sum(1 for mime, _t in outputs if mime == "image/png") == 3  # and the lead funnel
    # a campaign list with every exclusion and its reason, and the KPI report, as tables
    assert "Newsletter Winter (newsletter, email, 2026-11-23): 1 included, 5 excluded" in html
    assert "yes: express consent for newsletter was given on 2026-11-20" in html
    assert "no: advertising by e-mail needs prior express consent" in html
    assert "<caption>KPIs 2026-Q4</caption>" in html
    assert '<td style="text-align:left">1250.00</td>' in html
    # the duplicate was found and merged, the worklist rendered
    assert "13 contacts, 2 pairs compared: 1 duplicates" in html
    assert "Jürgen Müller ↔ Jürgen Mueller" in html or "Jürgen Mueller ↔ Jürgen Müller" in html
    assert "Stammkunde, ext:K-1001, ext:K-1006" in html
    assert "<caption>&lt;Worklist 2026-11-23:" in html
