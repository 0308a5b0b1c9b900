"""`convshape completions`: the static completion scripts, printed or installed."""

import os
from enum import Enum

import typer

from .common import EXIT_INVALID, _fail, _write


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


COMPLETIONS_EPILOG = """\
Examples:

\b
  convshape completions bash --install
  convshape completions zsh --install
  convshape completions fish > ~/.config/fish/completions/convshape.fish

\b
--install writes the script where the shell looks for it, creating the folder:
  bash  ${XDG_DATA_HOME:-~/.local/share}/bash-completion/completions/convshape
  zsh   ~/.zfunc/_convshape  (then, in ~/.zshrc before compinit: fpath=(~/.zfunc $fpath))
  fish  ${XDG_CONFIG_HOME:-~/.config}/fish/completions/convshape.fish
The same scripts ship in the repository's completions/ folder.
"""


def completion_path(shell: str) -> str:
    """Where ``--install`` puts the script for ``shell``: where the shell looks by itself."""
    home = os.path.expanduser("~")
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return {
        "bash": os.path.join(data, "bash-completion", "completions", "convshape"),
        "zsh": os.path.join(home, ".zfunc", "_convshape"),
        "fish": os.path.join(config, "fish", "completions", "convshape.fish"),
    }[shell]


def completions(
    shell: Shell = typer.Argument(..., metavar="SHELL", case_sensitive=False, help="bash, zsh or fish."),
    install: bool = typer.Option(False, "--install", help="Write the script where the shell finds it, not to stdout."),
) -> None:
    """Print (or install) a static completion script for a shell."""
    from ..cli import completion_script

    script = completion_script(shell.value)
    if not install:
        _write(script)
        return
    path = completion_path(shell.value)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(script)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_INVALID)
    _write(f"installed {path}\n")
    if shell.value == "zsh":
        _write("add to ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)\n")
