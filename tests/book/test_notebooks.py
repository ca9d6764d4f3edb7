"""Every chapter notebook reads the same way: its parameters, one study module's run / figures / tables / claims."""

import ast
import importlib
from pathlib import Path

import nbformat
import pytest

from dcgan_core.book import params

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
STUDY_API = ("run", "figures", "tables", "claims")


def code_cells(notebook: str) -> list:
    return [c for c in nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4).cells
            if c.cell_type == "code"]


def assigned(source: str) -> list[str]:
    """The names a parameters cell assigns, in order."""
    return [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for t in node.targets]


def study_modules(notebook: str) -> set[str]:
    """The study modules a notebook imports."""
    found = set()
    for cell in code_cells(notebook):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.module == "dcgan_core.studies":
                found |= {a.name for a in node.names}
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_parameters_cell_names_exactly_the_chapter_fields(notebook):
    first = code_cells(notebook)[0]
    assert "parameters" in first.metadata.get("tags", [])
    settable = [name for name in params.names(notebook) if name != "device"]  # the device is the profile's
    assert assigned(first.source) == settable  # same names, same order as the parameter object


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_a_notebook_calls_one_study_module_through_its_api(notebook):
    (module,) = study_modules(notebook)
    study = importlib.import_module(f"dcgan_core.studies.{module}")
    assert all(callable(getattr(study, name, None)) for name in STUDY_API), module
    text = "\n".join(c.source for c in code_cells(notebook))
    assert f"study = {module}.run(P)" in text
    assert f'rec.conclude({module}.claims(study, P), parameters=P.summary(), **study["record"])' in text
    assert "def " not in text and "for seed in" not in text  # no library work left in the notebook


def test_the_parameter_check_sees_a_stray_name():
    assert assigned('profile = "cpu"\nmodel = None\nextra = None') == ["profile", "model", "extra"]


def test_figure_labels_are_unique_across_the_book():
    """The book is one Sphinx project: a figure label used by two chapters fails its build (-W)."""
    seen: dict[str, str] = {}
    for name in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
                if line.startswith("```{glue:figure}"):
                    label = line.split()[-1]
                    assert label not in seen, f"figure {label} in both {seen.get(label)} and {name}"
                    seen[label] = name
    assert seen
