"""The entry point: one line on every failure, output that cannot be written, the command
registry, a base that must be > 1, and labels that cannot take over the terminal."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import types

import pytest

from kullback.cli import _parser
from kullback.cli.commands import COMMANDS


def test_stdout_on_a_full_disk(cli):
    with open("/dev/full", "wb") as full:
        r = cli("compare", "0.5,0.5", "0.25,0.75", stdout=full)
    assert r.returncode == 2
    assert r.stderr == "error: cannot write the output (No space left on device)\n"


def test_stdout_closed(cli):
    r = subprocess.run(["bash", "-c", f"{cli.command[0]} entropy 0.5,0.5 >&-"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert (r.returncode, r.stderr) == (2, "error: cannot write the output (stdout is closed)\n")


def test_plot_to_a_link_to_a_full_disk(cli, tmp_path):
    link = tmp_path / "out.png"
    link.symlink_to("/dev/full")
    message = cli("explain", "0.5,0.5", "0.25,0.75", "--plot", str(link)).one_line_error()
    assert message == f"--plot: cannot write {str(link)!r} (No space left on device)"
    assert link.is_symlink()  # the link is not replaced by a file


def test_plot_through_a_link_replaces_the_target_and_keeps_the_link(cli, tmp_path):
    target = tmp_path / "real.png"
    target.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    r = cli("explain", "0.5,0.5", "0.25,0.75", "--plot", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and target.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "real.png"]


@pytest.mark.parametrize("base", ["0.5", "1e-320"])
def test_a_base_must_be_greater_than_one(cli, base):
    message = cli("compare", "0.5,0.5", "0.25,0.75", "--base", base).one_line_error()
    assert message == f"--base must be a number greater than 1, or bits, nats or bans; got {base!r}"


@pytest.mark.parametrize("base", ["1", "-2", "nan", "inf", "0", "-inf", "1e400"])
@pytest.mark.parametrize("command", ["compare", "explain"])
def test_no_base_at_or_below_one_in_any_command(inproc, command, base):
    message = inproc(command, "0.5,0.5", "0.25,0.75", "--base", base).one_line_error()
    assert message == f"--base must be a number greater than 1, or bits, nats or bans; got {base!r}"


def test_a_base_just_above_one_is_fine(cli):
    r = cli("entropy", "0.5,0.5", "--base", "1.5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entropy"] == pytest.approx(math.log(2) / math.log(1.5),
                                                             rel=1e-14)


LABEL = "sun\x1b[2J\x1b]0;pwned\x07\nrain\u202e"


def test_control_characters_in_labels_are_escaped_in_text(inproc):
    for command in (["explain", f"{LABEL}=1,b=1", f"{LABEL}=1,b=3"],
                    ["explain", f"{LABEL}=1,b=1", "b=1,c=1"],
                    ["compare", f"{LABEL}=1,b=1", "b=1,c=1"],
                    ["compare", f"{LABEL}=1,b=1", f"{LABEL}=0,b=1"],
                    ["entropy", f"{LABEL}=1,b=1"]):
        r = inproc(*command)
        assert r.returncode == 0, r.stderr
        assert not any(c in r.stdout for c in "\x1b\x07\u202e"), command
        assert all(line.isprintable() for line in r.stdout.splitlines()), command

def test_control_characters_reach_the_terminal_escaped(cli):
    r = cli("explain", f"{LABEL}=1,b=1", f"{LABEL}=1,b=3")
    assert r.returncode == 0 and "\x1b" not in r.stdout
    assert "sun\\x1b[2J\\x1b]0;pwned\\x07\\nrain\\u202e" in r.stdout


def test_json_keeps_labels_json_escaped(cli):
    r = cli("explain", f"{LABEL}=1,b=1", f"{LABEL}=1,b=3", "--json")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\\u001b" in r.stdout  # escaped as JSON does
    assert json.loads(r.stdout)["outcomes"][0]["label"] == LABEL


def test_control_characters_in_an_error_stay_on_one_line(cli):
    message = cli("entropy", "a=1,a=2\n\x1b[31m").one_line_error()
    assert "\x1b" not in message


def test_every_listed_command_is_in_the_parser_once():
    parser = _parser.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    found = list(_parser.command_modules())
    assert list(sub.choices) == found
    assert {"compare", "explain", "entropy"} <= set(found) <= set(COMMANDS)


def test_a_command_still_being_written_is_left_out(monkeypatch):
    monkeypatch.setattr(_parser, "COMMANDS", (*COMMANDS, "not_written_yet"))
    assert "not_written_yet" not in _parser.command_modules()


def test_a_broken_command_module_is_not_hidden(monkeypatch):
    monkeypatch.setattr(_parser, "COMMANDS", ("broken",))

    def load(name):
        raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")

    monkeypatch.setattr(_parser, "load", load)
    with pytest.raises(ModuleNotFoundError):
        _parser.command_modules()


def test_commands_follow_the_protocol():
    for name, module in _parser.command_modules().items():
        assert isinstance(module, types.ModuleType)
        assert isinstance(module.HELP, str) and "\n" not in module.HELP, name
        assert callable(module.add_arguments) and callable(module.run), name


def test_help_lists_the_commands_and_loads_nothing_heavy():
    code = (
        "import sys, contextlib, io\n"
        "from kullback.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--help']) == 0\n"
        "    for c in ('compare', 'explain', 'entropy'):\n"
        "        assert main([c, '--help']) == 0\n"
        "heavy = [m for m in ('matplotlib', 'pyarrow', 'scipy', 'torch', 'jax', 'dask',\n"
        "                     'pandas', 'transformers') if m in sys.modules]\n"
        "print(heavy)\n"
        "print('--base B' in out.getvalue(), 'inputs (P and Q)' in out.getvalue())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["[]", "True True"]


def test_an_internal_error_is_one_line_with_status_1(monkeypatch, inproc):
    from kullback.cli.commands import entropy

    def boom(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(entropy, "run", boom)
    r = inproc("entropy", "1,1")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "internal error (RuntimeError: boom\\nsecond" in r.stderr
