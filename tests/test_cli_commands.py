"""creator/cli.py wires every command from its module: a broken import in one of the
project's modules is an error, a missing third-party extra a one-line message when used."""

from __future__ import annotations

import sys

import pytest

import pipelines
from creator import cli


def _stage(tmp_path, monkeypatch, name: str, source: str) -> str:
    """A stage package ``pipelines.<name>`` whose ``cli`` module is ``source``, in a
    folder outside the checkout (its path has Chinese in it), wired as `creator <name>`."""
    root = tmp_path / "临时阶段"
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "cli.py").write_text(source + (
        "\n\ndef add_parser(sub):\n    sub.add_parser(%r)\n\n\ndef run(args):\n    return 0\n" % name),
        encoding="utf-8")
    monkeypatch.setattr(pipelines, "__path__", [*pipelines.__path__, str(root)])
    module = f"pipelines.{name}.cli"
    monkeypatch.setitem(cli._OPTIONAL_COMMANDS, name, (module, "add_parser", "run"))
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delitem(sys.modules, f"pipelines.{name}", raising=False)
    return module


def test_a_typo_in_a_stage_import_is_an_error_not_a_missing_command(tmp_path, monkeypatch):
    _stage(tmp_path, monkeypatch, "typo_stage", "from creator.understandin import understand")
    with pytest.raises(ModuleNotFoundError) as e:
        cli.build_parser()
    assert e.value.name == "creator.understandin"
    assert any("creator typo_stage" in n for n in getattr(e.value, "__notes__", []))


def test_a_missing_third_party_extra_disables_only_its_command_with_one_clear_line(tmp_path, monkeypatch, capsys):
    _stage(tmp_path, monkeypatch, "extra_stage", "import nonexistent_extra_pkg_zz")
    listed = cli.build_parser().format_help()
    assert "unavailable: needs nonexistent_extra_pkg_zz" in listed and "tag" in listed
    status = cli.main(["extra_stage", "--whatever", "x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1, err
    assert "creator extra_stage:" in err[0] and "'nonexistent_extra_pkg_zz'" in err[0]
    assert "not installed" in err[0] and "pip install nonexistent_extra_pkg_zz" in err[0]
    # the other commands are all still there
    assert cli.main(["samples", str(tmp_path / "样例")]) == 0


def test_every_command_of_this_checkout_loads():
    parser = cli.build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert set(choices) == set(cli._COMMANDS) | set(cli._OPTIONAL_COMMANDS)
    assert all(p.get_default("_run")[1] != "run_unavailable" for p in choices.values())
