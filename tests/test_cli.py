"""The dispatcher: no bare tracebacks, whatever happens below it."""

import argparse
import shlex
import subprocess
import sys

import pytest

import autodiff.commands.check as check_command
from autodiff.cli import main


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_an_internal_error_is_one_line_with_the_way_to_the_traceback(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("planted bug")

    monkeypatch.delenv("BACKPROP_TRACEBACK", raising=False)
    monkeypatch.setattr(check_command, "run", broken)
    assert main(["check"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error: RuntimeError: planted bug" in err and "BACKPROP_TRACEBACK=1" in err


def test_a_closed_output_pipe_ends_quietly():
    # A command that prints far more than a pipe buffer holds, read by `head -c 10`.
    program = ("import sys, autodiff.commands.check as c; from autodiff.cli import main; "
               "c.run = lambda args: [print('x' * 1000) for _ in range(10**5)] and 0; "
               "sys.exit(main(['check']))")
    command = (f"{sys.executable} -c \"{program}\" | head -c 10 >/dev/null; "
               "echo status=${PIPESTATUS[0]}")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                            timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.strip() == "status=141", (result.stdout, result.stderr)


def test_a_broken_pipe_to_a_child_is_an_internal_error_not_a_quiet_exit():
    # A grader whose sandbox's pipe broke once ended as a silent 141, the closed-reader code,
    # with its stdout open and nothing said.
    program = ("import sys, autodiff.commands.check as c; from autodiff.cli import main; "
               "c.run = lambda args: (_ for _ in ()).throw(BrokenPipeError(32, 'child')); "
               "sys.exit(main(['check']))")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "internal error: BrokenPipeError" in result.stderr


def options_without_help(parser) -> list[str]:
    return [(action.option_strings or [action.dest])[0] for action in parser._actions
            if action.help in (None, "") and not isinstance(action, argparse._HelpAction)]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    from autodiff.cli import build_parser

    return build_parser()._subparsers._group_actions[0].choices


def examples(parser: argparse.ArgumentParser) -> list[list[str]]:
    """The command lines of ``parser``'s epilog: its lines that start with ``backprop``,
    without their ``#`` comments, as argument lists after ``backprop``."""
    lines = (line.strip() for line in (parser.epilog or "").splitlines())
    return [shlex.split(line, comments=True)[1:] for line in lines
            if line.startswith("backprop ")]


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_of_every_subcommand_says_what_it_does(name):
    assert options_without_help(subcommands()[name]) == []


def test_the_help_check_sees_an_option_without_help():
    from autodiff.training.distributed import build_parser as distributed_parser

    assert options_without_help(distributed_parser()) == []
    parser = subcommands()["train"]
    parser.add_argument("--planted")
    parser.add_argument("planted_path")
    assert options_without_help(parser) == ["--planted", "planted_path"]


@pytest.mark.parametrize("name", ["", *sorted(subcommands())])
def test_every_help_ends_with_examples_that_parse(name):
    from autodiff.cli import build_parser

    parser = build_parser() if not name else subcommands()[name]
    written = examples(parser)
    assert written, f"backprop {name} --help shows no examples"
    for argv in written:
        assert argv[0] == name if name else argv[0] in subcommands(), argv
        build_parser().parse_args(argv)  # argparse exits 2 on an example that does not parse


def test_a_wrong_flag_is_named_with_the_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--itrations", "5"])
    err = capsys.readouterr().err
    assert exit.value.code == 2
    assert err.startswith("usage: backprop train")
    assert "unrecognized arguments: --itrations 5" in err
