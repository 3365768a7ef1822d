"""The architecture, enforced on the source: which package may import gradio, torch and transformers.

- gradio only in `omni_demo/ui/` (the UI can be swapped, the engine can run without it);
- torch and transformers only in `omni_demo/engine/` (and `omni_demo/bench/` where it exists);
- the plain-data core (types, errors, conversation, media, presets, answers, config, cookbook) imports none of
  them, nor the engine or UI packages, so a remote back-end and the tests can use it cheaply;
- importing the UI does not load torch: `python app.py --help` and the page code stay fast.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "omni_demo"
HEAVY = ("gradio", "torch", "transformers")
CORE = ("types.py", "errors.py", "conversation.py", "media.py", "presets.py", "answers.py", "config.py")
# Plain-data modules added since, which say of themselves that they import no gradio or torch.
CORE_OPTIONAL = ("cookbook/__init__.py", "cookbook/cases.py", "cookbook/requests.py")
MODEL_PACKAGES = ("engine", "bench")


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, f"no sources under {PACKAGE}"
    return files


def _imported(path: Path) -> set[str]:
    """Every module an import statement in the file names, anywhere in it (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the file's package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _inside(path: Path, *packages: str) -> bool:
    parts = path.relative_to(PACKAGE).parts
    return len(parts) > 1 and parts[0] in packages


def test_the_rules_see_imports_inside_functions() -> None:
    """The engine imports torch lazily, inside functions; the scanner must find those imports."""
    local = PACKAGE / "engine" / "local.py"
    assert "torch" in _roots(_imported(local))


def test_only_the_ui_imports_gradio() -> None:
    offenders = [
        _rel(path) for path in _sources() if "gradio" in _roots(_imported(path)) and not _inside(path, "ui")
    ]
    assert offenders == [], f"gradio imported outside omni_demo/ui/: {offenders}"


@pytest.mark.parametrize("library", ["torch", "transformers"])
def test_only_the_engine_imports_model_libraries(library: str) -> None:
    offenders = [
        _rel(path)
        for path in _sources()
        if library in _roots(_imported(path)) and not _inside(path, *MODEL_PACKAGES)
    ]
    assert offenders == [], f"{library} imported outside omni_demo/engine/: {offenders}"


@pytest.mark.parametrize("name", CORE + CORE_OPTIONAL)
def test_core_modules_import_no_heavy_library(name: str) -> None:
    path = PACKAGE / name
    if name in CORE_OPTIONAL and not path.exists():
        return
    assert path.is_file(), f"{_rel(path)} is missing"
    imported = _imported(path)
    assert not (_roots(imported) & set(HEAVY)), f"{name} imports {sorted(_roots(imported) & set(HEAVY))}"
    layers = sorted(n for n in imported if n.startswith(("omni_demo.engine", "omni_demo.ui")))
    assert layers == [], f"{name} reaches into the engine or UI: {layers}"


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_importing_the_ui_and_core_does_not_load_torch() -> None:
    result = _fresh_python(
        "import sys\n"
        "import omni_demo.ui.app, omni_demo.conversation, omni_demo.media, omni_demo.types\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_importing_app_loads_neither_torch_nor_gradio() -> None:
    result = _fresh_python(
        "import sys\n"
        "import app\n"
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
