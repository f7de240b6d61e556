"""The docs are part of the product: examples run, hooks are documented."""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit import hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
BLOCK_RE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize(
    "path", [*DOCS, ROOT / "README.md"], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_code_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = BLOCK_RE.findall(path.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"crmkit": crmkit}
    for block in blocks:
        if "from crmkit_mystore" in block:
            continue  # a template for a plugin that does not exist
        exec(compile(block, str(path), "exec"), namespace)


def _hooks() -> list[tuple[str, str]]:
    out = []
    for name, func in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("crmkit_"):
            params = ", ".join(inspect.signature(func).parameters)
            out.append((name, f"{name}({params})"))
    return out


@pytest.mark.parametrize(("name", "signature"), _hooks())
def test_every_hook_is_documented_with_its_signature(name: str, signature: str) -> None:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert f"### `{signature}`" in text, f"{name} is missing from docs/plugins.md"
    func = getattr(hookspecs, name)
    assert func.__doc__ and ":param" in func.__doc__


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in crmkit.__all__:
        obj = getattr(crmkit, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_docs_index_links_exist() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)]+\.md)\)", index):
        assert (ROOT / "docs" / target).exists(), target


FENCE_RE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")


def _prose_names(path: Path, pattern: str) -> set[str]:
    """Dotted names matching *pattern* in the code spans of *path*'s prose (not its examples)."""
    text = FENCE_RE.sub("", path.read_text(encoding="utf-8"))
    return {m for span in CODE_SPAN_RE.findall(text) for m in re.findall(pattern, span)}


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize(
    "path", [*DOCS, ROOT / "README.md"], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_names_in_the_prose_exist(path: Path) -> None:
    """``crmkit.x.y`` and ``crm.sub.method`` in the text name things that exist."""
    missing = []
    for name in _prose_names(path, r"(?<![\w.])crmkit(?:\.\w+)+"):
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    crm = crmkit.open("memory://", load_entry_points=False)
    for name in _prose_names(path, r"(?<![\w.])crm(?:\.\w+)+"):
        if name in {"crm.db", "crm.py"}:
            continue  # files, not the facade
        obj: object = crm
        try:
            for attr in name.split(".")[1:]:
                obj = getattr(obj, attr)
        except AttributeError:
            missing.append(name)
    assert sorted(missing) == []


def _nav_pages(node: object) -> list[str]:
    """Every page path in an mkdocs ``nav`` (nested lists and one-key dicts)."""
    if isinstance(node, str):
        return [] if "://" in node else [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def _mkdocs_nav() -> list[str]:
    """The ``nav`` of mkdocs.yml (its ``!relative`` tags read as plain strings)."""
    import yaml

    loader: Any = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("!relative", lambda loader, node: str(node.value))
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=loader)
    return _nav_pages(config["nav"])


def test_every_page_is_in_the_nav() -> None:
    nav = _mkdocs_nav()
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in DOCS)
    assert [p for p in pages if p not in nav] == [], "add these pages to nav in mkdocs.yml"
    assert [p for p in nav if p not in pages] == [], "nav names pages that do not exist"
    assert len(nav) == len(set(nav)), "a page is in the nav twice"


def test_getting_started_opens_with_the_readme_commands() -> None:
    """The README's quick start and the first page of the docs stay in step."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1]
    commands = re.search(r"```bash\n(.*?)```", quick, re.S)
    assert commands is not None
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    first_block = re.search(r"```(\w*)\n(.*?)```", page, re.S)
    assert first_block is not None
    assert first_block.groups() == ("bash", commands.group(1))
    assert page.index("## A first script") < page.index("```python")


TEMPLATE_FILE_RE = re.compile(
    r"^```(?:python|toml)\n# ((?:src|tests)/[\w/]+\.py|pyproject\.toml)\n(.*?)^```", re.S | re.M
)


def test_plugin_template_passes_its_tests_and_the_contract_suite(tmp_path: Path) -> None:
    """The plugin of "Writing a plugin", laid out from the page, passes its own tests.

    Installing it is mimicked by a ``.dist-info`` with its entry points on
    the path, so the discovery test runs too.
    """
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    files = dict(TEMPLATE_FILE_RE.findall(text))
    assert {"pyproject.toml", "tests/test_contract.py", "tests/test_plugin.py"} <= set(files)
    for relative, body in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    project = tomllib.loads(files["pyproject.toml"])["project"]
    dist_name = project["name"].replace("-", "_")
    info = tmp_path / "src" / f"{dist_name}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
        encoding="utf-8",
    )
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
            for group, eps in groups.items()
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed is not None and "skipped" not in done.stdout, done.stdout
    assert int(passed.group(1)) > 90, done.stdout  # the contract suite ran, not only test_plugin.py


def test_privacy_page_says_it_is_no_legal_advice_and_cites_its_sources() -> None:
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    assert "Not legal advice" in text[:400] and "keine Rechtsberatung" in text[:400]
    for source in ("Art. 6(1)", "Art. 7", "Art. 12(3)", "Art. 15", "Art. 17", "Art. 21",
                   "§257", "§147", "§7(2)", "§7(3) UWG", "§7a UWG", "§35 BDSG", "BEG IV",
                   "eur-lex.europa.eu"):  # fmt: skip
        assert source in text, source


GLOSSARY_TERMS = (
    "Ansprechpartner", "Entscheider", "Rechnungskontakt", "Beziehung", "Wiedervorlage",
    "Rechtsgrundlage", "Einwilligung", "Widerspruch", "Aufbewahrungsfrist", "Löschfrist",
    "Auskunft", "Dublette", "Kundennummer", "Verein", "Mitglied",
)  # fmt: skip


def test_glossary_names_the_crmkit_term_for_each_german_one() -> None:
    rows = {}
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4:
            rows.update(dict.fromkeys((t.strip() for t in cells[0].split(",")), cells[2]))
    for term in GLOSSARY_TERMS:
        assert term in rows, term
        assert "`" in rows[term], f"{term}: no crmkit name in code"


def test_docstring_rewriting_for_the_site() -> None:
    """The griffe extension of mkdocs.yml: its own examples hold."""
    from tools import griffe_sphinx

    assert doctest.testmod(griffe_sphinx).failed == 0


def test_site_builds_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link, nav entry or API docstring fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "crm" / "index.html").exists()
