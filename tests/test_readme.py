"""Every example in the README runs as shown: commands after `$ ` in console blocks, their
output below them, and `[exit N]` where the exit status is not 0."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def examples():
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.splitlines()
        command, output = None, []
        for line in lines + ["$ "]:
            if line.startswith("$ "):
                if command:
                    status = 0
                    if output and re.fullmatch(r"\[exit \d+\]", output[-1]):
                        status = int(output.pop()[6:-1])
                    found.append((command, "".join(l + "\n" for l in output), status))
                command, output = line[2:], []
            else:
                output.append(line)
    return found


EXAMPLES = examples()


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("command, expected, status", EXAMPLES, ids=[e[0][:60] for e in EXAMPLES])
def test_readme_example(command, expected, status, shell_env):
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=shell_env, cwd=ROOT, timeout=60)
    assert result.stdout == expected
    assert result.returncode == status


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_python_examples_give_what_their_comments_say():
    namespace: dict = {}
    checked = 0
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        for line in block.splitlines():
            found = re.fullmatch(r"(.*?\S)\s+# (.*)", line)
            code, comment = found.groups() if found else (line, "")
            if not comment:
                exec(code, namespace)
                continue
            if "=" in code and "==" not in code:  # an assignment with a comment: run it
                exec(code, namespace)
                continue
            shown = repr(eval(code.strip(), namespace))
            assert comment.strip() == shown or comment.startswith(shown + ": "), line  # the value, then why
            checked += 1
    assert checked >= 7
