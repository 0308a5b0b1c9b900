"""Every command, on stacks drawn from the grammar (tests/fuzzing.py): an answer or a clear
error (exit 0, 1 or 2), never an internal error (exit 70) or a hang. A bounded budget
here; `python bench/fuzz.py N` runs a long one."""

from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from convshape.cli import app
from fuzzing import command, time_limit

runner = CliRunner()


# The same 300 inputs on every run, so that CI is reproducible; bench/fuzz.py draws new ones.
@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(command())
def test_every_command_answers_or_says_why(args):
    with time_limit(20):
        result = runner.invoke(app, args)
    assert result.exit_code in (0, 1, 2), (args, result.output, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "internal error" not in result.output
