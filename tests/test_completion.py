"""Shell completion: the shipped scripts match the CLI, and real shells complete with them.

bash, zsh and fish are driven for real: under tmux, typing and pressing Tab, and (bash,
fish) through their own completion entry points for exact candidate lists. Each test
skips only where its shell (or tmux) is not installed; `.ci/run` installs them.
"""

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from convshape.cli import completion_script
from convshape.completion import FILES, current_kind, layer_candidates
from convshape.layers import Kind

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shipped_scripts_are_what_the_cli_generates(shell):
    shipped = (COMPLETIONS / FILES[shell]).read_text()
    assert shipped == completion_script(shell), (
        f"completions/{FILES[shell]} is stale: regenerate it with `convshape completions {shell} > completions/{FILES[shell]}`"
    )


def test_layer_candidates_follow_the_current_kind():
    words = lambda *args: [w for w, _ in layer_candidates(list(args[:-1]), args[-1])]
    assert words("conv", "k3", "") [:10] == ["k", "s", "p", "psame", "pvalid", "pfull", "d", "c", "g", "x"]
    assert "op" in words("convt", "k4", "")
    assert "ceil" in words("maxpool", "")
    assert words("conv", "k3,", "") == [k.value for k in Kind]  # a comma ends the layer
    assert words("up", "s") == ["s"]
    assert words("", "co") == ["conv", "convt"]
    assert current_kind(["Conv2d", "k3"]) is Kind.CONV and current_kind(["deconv"]) is Kind.CONVT


# --- non-interactive: the shells' own completion entry points -------------------


def bash_complete(line: str) -> list[str]:
    script = f"""
source {BASH_COMPLETION}
source {COMPLETIONS / 'convshape.bash'}
COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
$(complete -p convshape | sed -E 's/.*-F ([^ ]+).*/\\1/') convshape
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, check=True).stdout
    return sorted(out.split())


@pytest.mark.skipif(not BASH_COMPLETION.exists(), reason="bash-completion is not installed")
def test_bash_candidates():
    assert bash_complete("convshape ca") == ["calc"]
    assert {"k", "s", "p", "psame", "d", "c", "g", "x", "conv", "maxpool"} <= set(bash_complete("convshape calc -i 224 conv k3 "))
    assert "op" not in bash_complete("convshape calc -i 224 conv k3 ")
    assert bash_complete("convshape calc -i 224 conv k3 --format ") == ["csv", "json", "table", "tsv"]
    assert bash_complete("convshape calc --convention ") == ["tf", "torch"]
    assert bash_complete("convshape calc -i 224 maxpool k3, ") == sorted(k.value for k in Kind)
    assert "floor_rounding" in bash_complete("convshape calc --allow ")


def fish_complete(line: str) -> dict[str, str]:
    script = f"source {COMPLETIONS / 'convshape.fish'}; complete -C {line!r}"
    out = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, check=True).stdout
    return dict((line.split("\t") + [""])[:2] for line in out.splitlines())


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_candidates_with_descriptions():
    assert list(fish_complete("convshape ca")) == ["calc"]
    tokens = fish_complete("convshape calc -i 224 conv k3 ")
    assert tokens["k"] == "kernel size: k3, k3x5" and tokens["psame"] == "padding that keeps the size"
    assert "op" in fish_complete("convshape calc -i 224 convt k4 ") and "op" not in tokens
    assert set(fish_complete("convshape calc --format ")) == {"table", "json", "csv", "tsv"}


def test_typers_install_completion_still_works(run):
    result = run("--show-completion", "bash")
    assert result.returncode == 0 and "_CONVSHAPE_COMPLETE" in result.stdout


def test_typer_dynamic_completion_offers_the_same_words():
    env = {**os.environ, "_CONVSHAPE_COMPLETE": "complete_bash", "COMP_WORDS": "convshape calc -i 224 conv k3 ", "COMP_CWORD": "6"}
    from conftest import convshape_command

    out = subprocess.run(convshape_command(), env=env, capture_output=True, text=True).stdout.split()
    assert out[:4] == ["k", "s", "p", "psame"] and "maxpool" in out


# --- interactive: a real shell under tmux, typing and pressing Tab ----------------


class Terminal:
    """A shell in a detached tmux session: type, press keys, read the screen."""

    def __init__(self, command: list[str], home: Path):
        self.server = f"convshape-test-{uuid.uuid4().hex[:8]}"
        self.session = "t"
        env = ["env", "-i", f"HOME={home}", "TERM=xterm", "PATH=/usr/bin:/bin"]
        subprocess.run(["tmux", "-L", self.server, "new-session", "-d", "-s", self.session, "-x", "160", "-y", "50",
                        " ".join(env + command)], check=True)
        time.sleep(0.4)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.server, "send-keys", "-t", self.session, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.server, "capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True, check=True).stdout

    def wait_for(self, text: str, seconds: float = 5) -> str:
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if text in screen or time.monotonic() > deadline:
                return screen
            time.sleep(0.1)

    def run(self, line: str, marker: str) -> None:
        self.keys(line, "Enter")
        self.wait_for(marker)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True)


SHELL_SETUP = {
    "bash": (["bash", "--norc", "--noprofile"],
             f"source {BASH_COMPLETION}; source {COMPLETIONS / 'convshape.bash'}; bind 'set show-all-if-ambiguous on'; PS1='READY$ '"),
    "zsh": (["zsh", "-f"],
            f"fpath=({COMPLETIONS} $fpath); autoload -Uz compinit; compinit -u -D; PS1='READY%% '"),
    "fish": (["fish", "--no-config"],
             f"source {COMPLETIONS / 'convshape.fish'}; function fish_prompt; echo 'READY> '; end"),
}


@pytest.fixture(params=["bash", "zsh", "fish"])
def terminal(request, tmp_path):
    shell = request.param
    if shutil.which("tmux") is None or shutil.which(shell) is None:
        pytest.skip(f"{shell} or tmux is not installed")
    if shell == "bash" and not BASH_COMPLETION.exists():
        pytest.skip("bash-completion is not installed")
    command, setup = SHELL_SETUP[shell]
    term = Terminal(command, tmp_path)
    term.run(setup, "READY")
    term.keys("clear", "Enter")
    term.wait_for("READY")
    yield term
    term.close()


def line_after_tab(term: Terminal, typed: str, expect: str) -> str:
    term.keys("C-u", typed, "Tab")
    screen = term.wait_for(expect)
    term.keys("C-c")
    term.wait_for("READY")
    term.keys("clear", "Enter")
    term.wait_for("READY")
    return screen


def test_tab_completes_the_subcommand(terminal):
    screen = line_after_tab(terminal, "convshape ca", "convshape calc")
    assert "convshape calc" in screen


def test_tab_offers_parameter_tokens_after_a_kind(terminal):
    screen = line_after_tab(terminal, "convshape calc -i 224 conv k3 ", "psame")
    for word in ["psame", "pvalid", "maxpool"]:
        assert word in screen, screen


def test_tab_offers_the_formats(terminal):
    screen = line_after_tab(terminal, "convshape calc -i 224 conv k3 --format ", "json")
    for word in ["table", "json", "csv", "tsv"]:
        assert word in screen, screen
