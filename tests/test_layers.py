"""The package's architecture: layers in the folders, kept by import-linter (make lint), and no import cycles."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LAYERS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every module that can reach itself through imports (function-level imports included), with its loop."""
    found = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            path = graph.find_shortest_chain(importer=imported, imported=module)
            if path:
                found.append([module, *path])
    return found


def test_no_module_imports_itself_through_a_cycle():
    assert cycles(grimp.build_graph("dcgan_core")) == []


def test_the_cycle_finder_sees_a_cycle(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from pkg import b\n")  # hidden in a function
    (tmp_path / "pkg" / "b.py").write_text("from pkg import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert cycles(grimp.build_graph("pkg", cache_dir=None))
    finally:
        sys.path.remove(str(tmp_path))


def test_every_part_of_the_package_sits_in_a_layer():
    parts = {f"dcgan_core.{p.stem}" for p in (ROOT / "dcgan_core").iterdir()
             if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert parts == set(LAYERS)


def test_the_layers_contract_fails_on_an_upward_import(tmp_path):
    shutil.copytree(ROOT / "dcgan_core", tmp_path / "dcgan_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    lint = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    kept = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})
    assert kept.returncode == 0, kept.stdout[-2000:]
    models = tmp_path / "dcgan_core" / "core" / "models.py"
    models.write_text(models.read_text() + "\nfrom dcgan_core.book import params  # noqa\n")  # core -> book: upward
    broken = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})
    assert broken.returncode == 1 and "dcgan_core.core.models -> dcgan_core.book.params" in broken.stdout
