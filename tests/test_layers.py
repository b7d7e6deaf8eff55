"""The import layers (.importlinter) hold, and break when an import points up.

The contracts are checked by import-linter's own command, ``lint-imports``, in a
subprocess: on this checkout, and on a copy of its packages with upward imports added.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("creator", "pipelines", "ui")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(where: Path, *contracts: str) -> subprocess.CompletedProcess:
    """``lint-imports`` on the packages in ``where`` with its .importlinter (only
    ``contracts`` when given), run there so that those packages are the ones analysed."""
    argv = [str(LINT), "--no-cache", "--no-logo", str(where / ".importlinter")]
    for c in contracts:
        argv += ["--contract", c]
    env = {**os.environ, "PYTHONPATH": str(where), "COLUMNS": "400"}
    return subprocess.run(argv, cwd=where, env=env, capture_output=True, text=True, timeout=120)


def copy_tree(dest: Path) -> Path:
    """The Python files of the three packages and the contract file, copied to ``dest``."""
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=lambda d, names: [
            n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir() or n == "__pycache__"])
    shutil.copy(ROOT / ".importlinter", dest / ".importlinter")
    return dest


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = tree / module.replace(".", "/") / "__init__.py"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_layers_hold_on_this_checkout():
    run = lint(ROOT, "layers", "commands-are-leaves", "no-cycles")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


def test_the_editor_reaches_the_stages_only_through_the_sdk():
    """Kept apart from the other contracts: the editor's panels still import pipeline
    internals (issue 18, item 6 removes them); this test fails until they are gone."""
    run = lint(ROOT, "ui-through-the-sdk")
    offending = re.findall(r"^-\s+(ui\.\S+ -> \S+ \(.*\))$", run.stdout, flags=re.M)
    assert run.returncode == 0 and "1 kept, 0 broken" in run.stdout, (
        "the editor imports past the SDK (issue 18 item 6: use creator's public API):\n  "
        + "\n  ".join(offending or [run.stdout + run.stderr]))


def test_an_upward_import_or_a_cycle_breaks_the_contracts(tmp_path):
    tree = copy_tree(tmp_path / "副本")
    control = lint(tree, "layers", "commands-are-leaves", "no-cycles")
    assert control.returncode == 0, control.stdout  # the copy alone keeps them

    add_import(tree, "creator.types", "import pipelines.caption")            # core -> a stage
    add_import(tree, "creator.media.photos", "from creator import Assistant")  # core -> the facade -> Assistant
    add_import(tree, "pipelines.cover.choose", "import creator.assistant")     # a stage -> the Assistant
    add_import(tree, "creator.assistant", "import creator.cli")                # the Assistant -> the CLI
    add_import(tree, "pipelines.cover.pipeline", "import pipelines.video.cli")  # a stage -> a command module
    add_import(tree, "creator.draft_store", "import creator.types")           # a cycle inside core
    run = lint(tree, "layers", "commands-are-leaves", "no-cycles")
    out = run.stdout
    assert run.returncode == 1, out
    assert "0 kept, 3 broken" in out, out
    for chain in ("creator.types -> pipelines.caption", "creator.media.photos -> creator ",
                  "pipelines.cover.choose -> creator.assistant", "creator.assistant -> creator.cli",
                  "pipelines.cover.pipeline -> pipelines.video.cli"):
        assert chain in out, (chain, out)
    cycles = out.split("No import cycles")[-1]
    assert "No cycles are allowed in creator." in cycles, out

    # the cycle alone, so the report names it (with the upward imports above it lists
    # only the first few of the dependencies it would remove)
    alone = copy_tree(tmp_path / "环")
    add_import(alone, "creator.draft_store", "import creator.types")
    run = lint(alone, "no-cycles")
    assert run.returncode == 1 and ".draft_store" in run.stdout, run.stdout


def test_the_editor_contract_keeps_an_sdk_only_editor_and_breaks_on_a_pipeline_import(tmp_path):
    tree = copy_tree(tmp_path / "副本")
    shutil.rmtree(tree / "ui")
    (tree / "ui" / "panels").mkdir(parents=True)
    (tree / "ui" / "__init__.py").write_text("", encoding="utf-8")
    (tree / "ui" / "panels" / "__init__.py").write_text("", encoding="utf-8")
    (tree / "ui" / "panels" / "cover.py").write_text(
        "from creator.assistant import Assistant\nfrom creator.drafts import load_draft\n", encoding="utf-8")
    kept = lint(tree, "ui-through-the-sdk")  # the Assistant's own imports of the stages are its business
    assert kept.returncode == 0 and "1 kept, 0 broken" in kept.stdout, kept.stdout

    add_import(tree, "ui.panels.cover", "from pipelines.cover.typography import fit_title")
    broken = lint(tree, "ui-through-the-sdk")
    assert broken.returncode == 1 and "ui.panels.cover -> pipelines.cover.typography" in broken.stdout, broken.stdout
