"""The command line: options, reading stacks from files or stdin, renderers, exit statuses.

A thin layer over the core (calc, fit, solve, symbolic). Rich is imported only when a
table is drawn, so ``--format json`` and ``-q`` start as fast as Typer allows.

The commands live in ``convshape.commands``; this module registers them on the app and
keeps what every run needs: usage errors in convshape's words, exit statuses, no traceback.
"""

import gc
import os
import sys
from typing import Optional

import typer

from . import __version__
from .limits import BeyondReach


ROOT_EPILOG = """\
Examples:

  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1

  convshape calc --help

Exit status: 0 success; 1 an invalid stack (or a warning, with --strict); 2 usage or parse error.
"""


class _ReaderGone(Exception):
    """stdout's reader went away (``| head -1``). Not an OSError: Typer catches a broken
    pipe itself and exits with 1, which a script reads as "invalid stack"."""


class _CannotWrite(Exception):
    """stdout refuses the output: a full disk, or no stdout at all (``>&-``)."""


class _GuardedStdout:
    """sys.stdout during a run, turning a broken pipe into ``_ReaderGone`` and any other
    failure to write into ``_CannotWrite``."""

    CHUNK = 1 << 14

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:  # Python's stdout when file descriptor 1 is closed
            raise _CannotWrite("standard output is closed")
        try:
            if len(text) <= self.CHUNK:
                return self._stream.write(text)
            # A write larger than the pipe that the reader stops in the middle of can end
            # as a short write that Python does not report: in pieces, the next one fails.
            for start in range(0, len(text), self.CHUNK):
                self._stream.write(text[start:start + self.CHUNK])
                self._stream.flush()
            return len(text)
        except BrokenPipeError:
            raise _ReaderGone from None
        except OSError as exc:
            raise _CannotWrite(exc.strerror or str(exc)) from None

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise _ReaderGone from None
        except OSError as exc:
            raise _CannotWrite(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


SHORT_HELP = """Usage: convshape COMMAND [OPTIONS] [LAYERS]...

Commands: {commands}.
  convshape calc -i 224 -c 3 conv k7 s2 p3 c64 maxpool k3 s2 p1
Try 'convshape -h' for help.
"""


class _Group(typer.core.TyperGroup):
    """The app's group: usage errors in convshape's own words, and exit statuses a script
    can trust (2 for usage, 141 when the reader stops early), in-process too."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        click_errors = _click_exceptions()
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(0)  # exact answers may be long (fit: 3^10000 has 4,772 digits)
        real = sys.stdout
        sys.stdout = _GuardedStdout(real)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()
        except _ReaderGone:
            status = EXIT_PIPE
            _silence(real)
        except _CannotWrite as exc:
            sys.stderr.write(f"convshape: cannot write the output: {exc}\n")
            status = EXIT_INVALID
            _silence(real)  # what is still buffered goes nowhere, quietly
        except click_errors.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `convshape` alone
                sys.stderr.write(SHORT_HELP.format(commands=", ".join(self.commands)))
            else:
                sys.stderr.write(f"convshape: {usage_message(exc)}\n")
            status = EXIT_USAGE
        except BeyondReach as exc:
            sys.stderr.write(f"convshape: {exc}\n")
            status = EXIT_INVALID
        except click_errors.Abort:  # end of input at a prompt; convshape has none
            status = EXIT_INVALID
        finally:
            sys.stdout = real
        status = status or 0
        if standalone_mode:
            sys.exit(status)
        return status


def _click_exceptions():
    """Click's exception module, wherever this Typer keeps click (vendored since 0.24)."""
    import types

    import typer.core

    click = getattr(typer.core, "_click", None) or getattr(typer.core, "click")
    errors = click.exceptions
    abort = getattr(errors, "Abort", None) or typer.core.Abort
    return types.SimpleNamespace(UsageError=errors.UsageError, BadParameter=errors.BadParameter,
                                 MissingParameter=errors.MissingParameter, Abort=abort)


def _silence(stream) -> None:
    """Point stdout at /dev/null, so that Python's last flush at exit finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def usage_message(exc) -> str:
    """A usage error as one line, naming the option and what it takes, then where to look.

    Click's "Invalid value for '--near': 'abc' is not a valid int range." reads as
    "--near: 'abc' is not a whole number (see 'convshape fit -h')".
    """
    import re

    click_errors = _click_exceptions()
    param = getattr(exc, "param", None)
    if isinstance(exc, click_errors.MissingParameter) and param is not None:
        text = f"{_param_name(param)} is required"
    elif isinstance(exc, click_errors.BadParameter) and param is not None:
        message = exc.message.rstrip(".")
        message = re.sub(r"^'(.*)' is not a valid (?:int|integer)(?: range)?$", r"'\1' is not a whole number", message)
        bounds = re.match(r"^(-?\d+) is not in the range (?:(-?\d+)<=)?x(?:<=(-?\d+)|>=(-?\d+))?$", message)
        if bounds:
            value, low, high, minimum = bounds.groups()
            message = f"{value} is below {minimum}" if minimum else f"{value} is not between {low} and {high}"
        message = re.sub(r"^'(.*)' is not one of (.*)$", lambda m: f"'{m[1]}' is not one of {m[2].replace(chr(39), '')}",
                         message)
        text = f"{_param_name(param)}: {message}"
    else:
        text = exc.format_message().rstrip(".")
        text = text[:1].lower() + text[1:]
    command = exc.ctx.command_path if exc.ctx is not None else "convshape"
    return f"{text} (see '{command} -h')"


def _param_name(param) -> str:
    if param.param_type_name == "argument":
        return (param.metavar or param.name).upper()
    return max(param.opts, key=len)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"convshape {__version__}")
        raise typer.Exit()


def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """Exact output sizes, channels and receptive fields of CNN layer stacks."""


def _typer(commands) -> typer.Typer:
    """The app with these ``(name, function, epilog)`` commands, in the order --help lists them."""
    made = typer.Typer(
        name="convshape",
        cls=_Group,
        help="Exact output sizes, channels and receptive fields of CNN layer stacks.",
        epilog=ROOT_EPILOG,
        no_args_is_help=True,
        add_completion=False,  # `convshape completions SHELL --install` installs the static scripts
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,
    )
    made.callback()(_root)
    for name, function, epilog in commands:
        made.command(name, epilog=epilog)(function)
    return made


from .commands.common import EXIT_INTERNAL, EXIT_INVALID, EXIT_PIPE, EXIT_USAGE  # noqa: E402

# Each command where it lives: (name, module in convshape.commands, function, epilog), in the
# order --help lists them. A run imports only its own command's module (see main).
SOURCES = [
    ("calc", "calc", "calc", "CALC_EPILOG"),
    ("fit", "inverse", "fit", "FIT_EPILOG"),
    ("solve", "inverse", "solve", "SOLVE_EPILOG"),
    ("export", "models", "export", "EXPORT_EPILOG"),
    ("import", "models", "import_", "IMPORT_EPILOG"),
    ("draw", "pictures", "draw", "DRAW_EPILOG"),
    ("schema", "schema", "schema", "SCHEMA_EPILOG"),
    ("completions", "completions", "completions", "COMPLETIONS_EPILOG"),
]


def _command(name: str, module: str, function: str, epilog: str) -> tuple:
    """``(name, function, epilog)`` of one command, its module imported now."""
    import importlib

    found = importlib.import_module(f".commands.{module}", __package__)
    return name, getattr(found, function), getattr(found, epilog)


def __getattr__(name: str):
    """``app`` (every command: --help, the tests, the completion scripts) and ``COMMANDS``,
    made on first use: a run of one command needs neither."""
    if name == "COMMANDS":
        value = [_command(*source) for source in SOURCES]
    elif name == "app":
        value = _typer(__getattr__("COMMANDS"))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, generated from this CLI's commands and options."""
    from .completion import SHELLS, spec_from_click
    from .diagnostics import WARNINGS

    group = typer.main.get_command(__getattr__("app"))
    group.name = "convshape"
    from .kinds import Kind
    from .solve import KINDS

    every = tuple(Kind)
    takes_layers = {name: every for name, command in group.commands.items()  # every command with a LAYERS argument
                    if any(p.param_type_name == "argument" and p.name == "stack" for p in command.params)}
    spec = spec_from_click(group, {"--allow": tuple(sorted(code.value for code in WARNINGS))},
                           {**takes_layers, "solve": tuple(KINDS)})
    return SHELLS[shell](spec)


def main() -> None:
    """The console script: Typer's app, with no traceback ever reaching the user.

    The process is one short run, and the cyclic garbage collector is told so. The run
    makes no reference cycles, so a collection during it would only re-scan every row
    again and again as a long stack grows: it is off. The run ends in ``_leave``, without
    Python's teardown; where it ends otherwise (an internal error, Ctrl-C), everything the
    imports built is frozen, skipped by the full collections Python makes while it shuts
    down. Here and not in the commands, so that calling the app in-process leaves the
    collector and the process alone.
    """
    gc.disable()
    gc.freeze()
    # Typer builds every command's options at each start; a run needs only its own command's
    # (the same options, help and errors): the app of that one command, where argv names one.
    named = [_command(*source) for source in SOURCES if sys.argv[1:2] == [source[0]]]
    try:
        (_typer(named) if named else __getattr__("app"))(prog_name="convshape")
    except SystemExit as exc:
        _leave(exc.code)
    except BrokenPipeError:
        _reader_gone()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, without a traceback
        sys.stderr.write(f"convshape: internal error, please report it: {type(exc).__name__}: {exc}\n")
        sys.exit(EXIT_INTERNAL)


def _reader_gone() -> None:
    """The reader went away (`| head -1`): stop quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_PIPE)


def _leave(status) -> None:
    """End the process with ``status`` once the output is flushed, without the interpreter's
    teardown: it would free, one by one, every object the run made, and no one waits for
    that (about 2 ms of a start). Nothing is left to do at exit: the commands close their
    files, start no thread and register no exit handler."""
    if not isinstance(status, int):  # a message or None: Python's own exit says it
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError:  # the run has said what it could; its status stands
            pass
    os._exit(status)
