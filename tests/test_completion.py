"""Shell completion: the shipped scripts match the CLI, and real shells complete with them.

bash, zsh and fish are driven for real: under tmux, typing and pressing Tab, and (bash,
fish) through their own completion entry points for exact candidate lists. Each test
skips only where its shell (or tmux) is not installed; `.ci/run` installs them.
"""

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from convshape.cli import completion_script
from convshape.completion import FILES, current_kind, layer_candidates
from convshape.kinds import Kind

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
    assert words("conv", "k3", "")[:13] == ["k", "s", "p", "psame", "pvalid", "pfull", "d", "c", "g", "dw", "nobias", "in",
                                         "x"]
    assert "op" in words("convt", "k4", "")
    assert "ceil" in words("maxpool", "")
    assert words("conv", "k3,", "") == [k.value for k in Kind] + ["from"]  # a comma ends the layer
    assert words("up", "s") == ["s", "silu", "sigmoid"]  # its scale, or a new layer
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
    assert bash_complete("convshape calc --convention ") == ["keras", "onnx", "tf", "torch"]
    assert bash_complete("convshape calc -i 224 maxpool k3, ") == sorted([k.value for k in Kind] + ["from"])
    # names bound earlier on the line: after from and like, and in a merge with its modifiers
    assert bash_complete("convshape calc -i 224 conv k3 @skip conv k3 @x2, from ") == ["skip", "x2"]
    assert {"skip", "crop", "pad"} <= set(bash_complete("convshape calc -i 224 conv k3 @skip conv k3 cat "))
    assert "skip" not in bash_complete("convshape calc -i 224 conv k3 @skip conv k3 ")
    assert "floor_rounding" in bash_complete("convshape calc --allow ")


def fish_complete(line: str) -> dict[str, str]:
    script = f"source {COMPLETIONS / 'convshape.fish'}; complete -C {line!r}"
    with tempfile.TemporaryDirectory() as home:  # fish makes its folders in HOME: never the user's
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_DATA_HOME": f"{home}/.local/share"}
        out = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, check=True,
                             env=env).stdout
    return dict((line.split("\t") + [""])[:2] for line in out.splitlines())


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_candidates_with_descriptions():
    assert list(fish_complete("convshape ca")) == ["calc"]
    tokens = fish_complete("convshape calc -i 224 conv k3 ")
    assert tokens["k"] == "kernel size: k3, k3x5" and tokens["psame"] == "padding that keeps the size"
    assert "op" in fish_complete("convshape calc -i 224 convt k4 ") and "op" not in tokens
    assert set(fish_complete("convshape calc --format ")) == {"table", "json", "csv", "tsv"}


def test_one_installer_puts_the_static_script_where_the_shell_looks(run, tmp_path):
    """Typer's --install-completion wrote its own scripts over these; it is gone."""
    gone = run("--install-completion", "bash")
    assert gone.returncode == 2 and "no such option: --install-completion" in gone.stderr
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""}
    for shell, path in [("bash", ".local/share/bash-completion/completions/convshape"), ("zsh", ".zfunc/_convshape"),
                        ("fish", ".config/fish/completions/convshape.fish")]:
        result = run("completions", shell, "--install", env=env)
        assert result.returncode == 0 and result.stdout.startswith(f"installed {tmp_path / path}\n")
        assert (tmp_path / path).read_text() == (COMPLETIONS / FILES[shell]).read_text()
    assert "fpath=(~/.zfunc $fpath)" in run("completions", "zsh", "--install", env=env).stdout
    xdg = run("completions", "fish", "--install", env={**env, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert (tmp_path / "cfg/fish/completions/convshape.fish").exists(), xdg.stdout


@pytest.mark.skipif(not BASH_COMPLETION.exists(), reason="bash-completion is not installed")
def test_bash_offers_only_what_the_command_accepts():
    assert bash_complete("convshape solve -i 3 -o 1 ") == ["avgpool", "conv", "convt", "maxpool"]
    assert "psame" not in bash_complete("convshape calc -i 8 maxpool k2 ")
    assert "psame" not in bash_complete("convshape calc -i 8 convt k2 ")
    assert "psame" in bash_complete("convshape calc --convention tf -i 8 maxpool k2 ")
    assert "psame" in bash_complete("convshape calc --convention Keras -i 8 convt k2 ")
    assert "psame" in bash_complete("convshape calc -i 8 conv k2 ")


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_offers_only_what_the_command_accepts_with_their_own_descriptions():
    assert set(fish_complete("convshape solve -i 3 -o 1 ")) == {"avgpool", "conv", "convt", "maxpool"}
    assert "psame" not in fish_complete("convshape calc -i 8 maxpool k2 ")
    assert "psame" in fish_complete("convshape calc --convention tf -i 8 maxpool k2 ")
    assert fish_complete("convshape calc --format ") == {
        "table": "a table for people", "json": "one JSON object", "csv": "comma-separated rows", "tsv": "tab-separated rows"}
    assert fish_complete("convshape calc --allow ")["floor_rounding"] == "real input pixels at the end are never read"
    assert fish_complete("convshape calc --f")["--format"] == "Output format."


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


def test_tab_after_solve_offers_only_the_kinds_solve_takes(terminal):
    screen = line_after_tab(terminal, "convshape solve -i 3 -o 1 ", "maxpool")
    assert "maxpool" in screen and "convt" in screen, screen
    for word in ["flatten", "linear", "upsample"]:
        assert word not in screen, screen


def test_tab_after_from_completes_a_name_bound_earlier_on_the_line(terminal):
    screen = line_after_tab(terminal, "convshape calc -i 9 conv k3 @skip conv k3 from sk", "from skip")
    assert "from skip" in screen, screen


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_offers_names_in_a_merge():
    found = fish_complete("convshape calc -i 224 conv k3 @skip conv k3 add ")
    assert found["skip"] == "a tensor named with @" and "crop" in found and "pad" in found


# --- the newer commands complete stacks and files as calc does (issue 21) -------------

@pytest.mark.parametrize("command", ["draw -i 8", "export --to torch"])
def test_tab_offers_parameter_tokens_after_a_kind_in_draw_and_export(terminal, command):
    screen = line_after_tab(terminal, f"convshape {command} conv k3 ", "psame")
    for word in ["psame", "pvalid", "maxpool"]:
        assert word in screen, screen


def test_tab_after_from_in_draw_completes_a_bound_name(terminal):
    screen = line_after_tab(terminal, "convshape draw -i 9 conv k3 @skip conv k3 from sk", "from skip")
    assert "from skip" in screen, screen


@pytest.mark.parametrize("typed", ["convshape draw -i 8 conv k3 -o READ", "convshape export conv k3 -o READ",
                                   "convshape import READ"])
def test_tab_completes_file_names_where_a_file_goes(terminal, typed):
    import os

    terminal.keys("cd " + str(ROOT), "Enter")
    terminal.wait_for("READY")
    screen = line_after_tab(terminal, typed, "README.md")
    assert typed.replace("READ", "README.md") in screen, screen
    terminal.keys("cd " + os.getcwd(), "Enter")


def test_bash_completes_the_newer_commands_as_calc():
    assert {"k", "s", "psame", "conv"} <= set(bash_complete("convshape draw -i 8 conv k3 "))
    assert {"k", "s", "psame", "conv"} <= set(bash_complete("convshape export conv k3 "))
    assert "a" in bash_complete("convshape draw -i 8 @a conv k3, add ")
    assert bash_complete("convshape solve -o ") == []  # a size, not a file
