"""Which input sizes a stack handles cleanly: every layer valid, and no floor rounding.

Per axis the answer is a rule, found in closed form rather than by trying sizes:
every valid size is at least a minimum (each layer's output grows with its input), and
whether a size is clean depends only on its residue modulo the product of the strides
(a stride-s window skips real pixels or not according to its input size modulo s, and
shifting the network's input by that product shifts every layer's input by a multiple
of its own stride). So the clean sizes are ``I ≡ r (mod M), I ≥ minimum`` for a set of
residues r, computed backwards from the last layer:

- a stride-s layer (or a fractional upsampling by p/q) multiplies the modulus by s (q)
  and keeps the inputs whose output is allowed and that floor-round nothing;
- a stride-1 layer or a pad only shifts sizes;
- a transposed conv or an integer upsampling keeps the modulus;
- global pooling, flatten and linear accept any size: the rule starts afresh.

A layer is read over one period of its inputs (s of them): one period on, every output
has moved on by the same amount, so which of the modulus's inputs give an allowed output
is a linear congruence per allowed residue, solved rather than tried. The cost is
O(layers × (stride + residues)), not the product of the strides (2^70 for seventy
stride-2 layers), whatever range is asked about. Each step
runs the same arithmetic and diagnostics as ``calc``; there is no second copy of them.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd, prod
from typing import Iterator, NamedTuple

from .arithmetic import axis_step
from .diagnostics import Code, Diagnostic, axis_findings, factor_text, linear_needs_flat, parameter_error, size_error
from .grammar import Stack
from .layers import Convention, Layer, axis_names, layer_label


class AxisRule(NamedTuple):
    """The clean input sizes on one axis: ``size ≡ r (mod modulus)`` for r in residues,
    and ``size ≥ minimum_valid``; ``smallest_clean`` is the first such size (None: none).

    With merges, inputs so small that a merge's input shrinks to 1 pixel may run by
    broadcasting: below ``periodic_from`` the sizes are listed (``small``, clean, and
    ``small_valid``), read by running each one, and the congruences hold from there on.
    """

    axis: str
    modulus: int
    residues: tuple[int, ...]
    minimum_valid: int  # the smallest size that runs (merges included)
    smallest_clean: int | None
    # The sizes that run at all: every size ≥ minimum_valid on a single path; with merges
    # that must fit without crop or pad, those ≡ valid_residues (mod valid_modulus).
    valid_modulus: int = 1
    valid_residues: tuple[int, ...] = (0,)
    periodic_from: int = 0
    small: tuple[int, ...] = ()
    small_valid: tuple[int, ...] = ()

    @property
    def _low(self) -> int:
        return max(self.minimum_valid, self.periodic_from)

    def _text(self, modulus: int, residues: tuple[int, ...], small: tuple[int, ...]) -> str:
        extra = f"{self.axis} = {', '.join(map(str, small))}" if small else ""
        if not residues:
            return f"{extra} only" if small else f"no {self.axis} is clean"
        if len(residues) == modulus:
            rule = f"every {self.axis} ≥ {self._low}"
        else:
            shown = ", ".join(map(str, residues[:8])) + (", …" if len(residues) > 8 else "")
            rule = f"{self.axis} ≡ {shown} (mod {modulus}), {self.axis} ≥ {self._low}"
        return f"{rule}; also {extra}" if small else rule

    def describe(self) -> str:
        """The rule in words.

        >>> AxisRule("H", 32, (1,), 33, 33).describe()
        'H ≡ 1 (mod 32), H ≥ 33'
        >>> AxisRule("L", 4, (3,), 1, 1, periodic_from=5, small=(1, 3)).describe()
        'L ≡ 3 (mod 4), L ≥ 5; also L = 1, 3'
        """
        return self._text(self.modulus, self.residues, self.small)

    def describe_valid(self) -> str:
        """The sizes that run at all, in words.

        >>> AxisRule("H", 16, (0,), 16, 16, 16, (0,)).describe_valid()
        'H ≡ 0 (mod 16), H ≥ 16'
        """
        if self.valid_modulus == 1 and not self.small_valid:
            return f"every {self.axis} ≥ {self.minimum_valid}"
        return self._text(self.valid_modulus, self.valid_residues, self.small_valid)

    def clean_sizes(self, start: int, stop: int) -> Iterator[int]:
        """Every clean size in start..stop (inclusive), in order, one period at a time."""
        yield from (size for size in self.small if start <= size <= stop)
        first = max(start, self._low)
        if not self.residues or first > stop:
            return
        base = first - first % self.modulus
        while base <= stop:
            for residue in self.residues:
                size = base + residue
                if first <= size <= stop:
                    yield size
            base += self.modulus

    def count(self, start: int, stop: int) -> int:
        """How many clean sizes lie in start..stop, in O(residues).

        >>> AxisRule("L", 4, (1, 2), 5, 5).count(1, 20)
        8
        """
        small = sum(1 for size in self.small if start <= size <= stop)
        low = max(start, self._low)
        if low > stop:
            return small
        return small + sum((stop - r) // self.modulus - (low - 1 - r) // self.modulus for r in self.residues)

    def nearest(self, size: int) -> tuple[int | None, int | None]:
        """The clean sizes at or just below, and at or just above, ``size``."""
        below = max((s for s in self.small if s <= size), default=None)
        above = min((s for s in self.small if s >= size), default=None)
        if not self.residues:
            return below, above
        low = self._low
        period_base = size - size % self.modulus
        for base in (period_base, period_base - self.modulus):
            candidates = [base + r for r in self.residues if low <= base + r <= size]
            if candidates:
                below = max(candidates)
                break
        if above is None:
            start = max(size, low)
            period_base = start - start % self.modulus
            for base in (period_base, period_base + self.modulus):
                candidates = [base + r for r in self.residues if base + r >= start]
                if candidates:
                    above = min(candidates)
                    break
        return below, above


class Fit(NamedTuple):
    """The analysis of a whole stack: one rule per axis, or the error that stops it.

    ``steps`` explain it: per axis, from the last layer back to the first, what each
    layer's input must be (a residue rule and a minimum).
    """

    dims: int
    rules: tuple[AxisRule, ...]
    error: tuple[int, Diagnostic] | None  # (layer index, error) that no input size avoids
    steps: tuple[tuple[str, int, object], ...] = ()  # (axis, layer index, explanation: str() writes it)
    probe: object = None  # calc's result on a huge input that runs: channels and size-free errors

    @property
    def valid(self) -> bool:
        return self.error is None


class _Allowed(NamedTuple):
    """Sizes allowed at some layer's input: (size - shift) mod modulus in residues."""

    modulus: int
    residues: frozenset
    shift: int

    def allows(self, size: int) -> bool:
        return (size - self.shift) % self.modulus in self.residues


EVERYTHING = _Allowed(1, frozenset({0}), 0)


def _step(layer: Layer, axis: int, size: int, convention: Convention, name: str):
    """The layer's numbers at this input size, and whether it is valid and clean there."""
    step = axis_step(layer, axis, size, convention)
    if size_error(layer, step, name, convention) is not None:
        return step, False, False
    clean = not any(f.code is Code.FLOOR_ROUNDING for f in axis_findings(layer, step, name, convention))
    return step, True, clean


def _constant_output(layer: Layer, axis: int) -> int | None:
    """The output size of a layer that gives the same one whatever its input (gap, o7), or None."""
    return layer.kind.op.constant_output(layer, axis)


def _global(layer: Layer) -> bool:
    """A pool over the whole map (gap): its output is 1 whatever its input."""
    return layer.kind.op.whole and layer.kind.is_spatial


def _period(layer: Layer, axis: int) -> int:
    """How much the layer's input must grow to move its output by a whole step."""
    return layer.kind.op.period(layer, axis)


def _backward(layer: Layer, axis: int, allowed: _Allowed, convention: Convention, name: str, far: int,
              primes: list[int] | None = None, clean: bool = True) -> _Allowed:
    """The input sizes of ``layer`` that are clean there and lead to allowed outputs.

    ``primes``: every prime of the moduli on this axis (found from the modulus if not given).
    """
    kind = layer.kind
    if not (kind.is_spatial or kind.is_merge or kind.keeps_shape):  # flat features: any size gives them
        return EVERYTHING
    if kind.keeps_shape:
        return allowed
    constant = _constant_output(layer, axis)
    if constant is not None:  # the output size does not follow the input's: it is allowed or not
        return EVERYTHING if allowed.allows(constant) else _Allowed(1, frozenset(), 0)
    period = _period(layer, axis)
    if period == 1 and kind.op.offset_only(layer):
        # A pad or a stride-1 window: the output is the input plus a constant, always clean.
        step = axis_step(layer, axis, far, convention)
        return _Allowed(allowed.modulus, allowed.residues, allowed.shift - (step.out_size - far))
    modulus = allowed.modulus * period
    base, one, advance = _one_period(layer, axis, convention, name, far)
    if advance is None:
        return _enumerated(layer, axis, allowed, convention, name, -(-far // modulus) * modulus, modulus, primes, clean)
    # Input base + j + q·period gives output f_j + q·advance, for q in 0..M−1 (M the
    # output's modulus): allowed where q·advance ≡ r + shift − f_j (mod M) for an allowed r.
    outputs = allowed.modulus
    common = gcd(advance, outputs)
    inverse = pow(advance // common, -1, outputs // common)
    residues = set()
    for j, (step, valid, is_clean) in enumerate(one):
        if not (valid and (is_clean or not clean)):
            continue
        for r in allowed.residues:
            wanted = r + allowed.shift - step.out_size
            if wanted % common:
                continue
            q = wanted // common * inverse % (outputs // common)
            if common > MAX_RESIDUES:  # as many distinct residues as common: said before they are listed
                _too_many_residues(layer, name, modulus)
            residues.update((base + j + (q + t * (outputs // common)) * period) % modulus for t in range(common))
        if len(residues) > MAX_RESIDUES:
            _too_many_residues(layer, name, modulus)
    return _shortest(_Allowed(modulus, frozenset(residues), 0), primes)


def _too_many_residues(layer: Layer, name: str, modulus: int):
    from .limits import BeyondReach

    raise BeyondReach(f"{layer.text!r}: the sizes that are clean on {name} from it on fall in more than "
                      f"{MAX_RESIDUES:,} classes modulo {modulus:,}, more than fit and the formulas list: "
                      "check a size with calc -i")


MAX_READ_PERIOD = 1 << 14  # one layer's period, read input by input (a stride; a kernel for a pool)
# The clean residues a rule lists. Each layer that lets several of its inputs' residues
# through multiplies them (11 of every 210 for `maxpool k210 p10`: 11^6 after six), at about
# 2 µs each: past this, half a second, the rule is refused rather than built.
MAX_RESIDUES = 300_000


@lru_cache(maxsize=256)  # a repeated layer (x10000) is read once
def _one_period(layer: Layer, axis: int, convention: Convention, name: str, far: int):
    """The layer over one period of inputs from ``base``: (base, [(step, valid, clean)], advance).

    One period of inputs decides everything: one more period on, every output has moved on
    by the same ``advance``, and whether an input is clean repeats (``advance`` is None
    where it does not). ``base`` is a multiple of the period far above every minimum; not
    of the modulus, which runs to thousands of digits in a deep stack.
    """
    period = _period(layer, axis)
    if period > MAX_READ_PERIOD:
        from .limits import BeyondReach

        raise BeyondReach(f"{layer.text!r} repeats its sizes only every {period:,} inputs, more than the "
                          f"{MAX_READ_PERIOD:,} that fit and the formulas read: give an input size (-i)")
    base = -(-far // period) * period
    one, two = ([_step(layer, axis, base + start + j, convention, name) for j in range(period)] for start in (0, period))
    advance = two[0][0].out_size - one[0][0].out_size
    if advance < 1 or any(b[0].out_size - a[0].out_size != advance or a[1:] != b[1:] for a, b in zip(one, two)):
        return base, one, None
    return base, one, advance


def _enumerated(layer: Layer, axis: int, allowed: _Allowed, convention: Convention, name: str, base: int,
                modulus: int, primes: list[int] | None = None, clean: bool = True) -> _Allowed:
    """The same, input by input over a whole modulus: for a layer whose outputs do not
    move on evenly from one period to the next (none known; a safety net)."""
    residues = set()
    for offset in range(modulus):
        step, valid, is_clean = _step(layer, axis, base + offset, convention, name)
        if valid and (is_clean or not clean) and allowed.allows(step.out_size):
            residues.add(offset)
    return _shortest(_Allowed(modulus, frozenset(residues), 0), primes)


def _shortest(allowed: _Allowed, primes: list[int] | None = None) -> _Allowed:
    """The same set with the smallest modulus that describes it.

    The moduli that describe it are the multiples of the smallest, so it is found by
    dividing the modulus by its prime factors while the set still repeats. ``primes``
    may name them (a superset will do): factoring a modulus of 2^10000 from scratch at
    every layer made fit cubic in the depth.

    >>> _shortest(_Allowed(12, frozenset({1, 5, 9}), 0))
    _Allowed(modulus=4, residues=frozenset({1}), shift=0)
    """
    modulus, residues = allowed.modulus, allowed.residues
    divisor = modulus
    for prime in _prime_factors(modulus) if primes is None else primes:
        while divisor % prime == 0 and all((r + divisor // prime) % modulus in residues for r in residues):
            divisor //= prime
    if divisor == modulus:
        return allowed
    return _Allowed(divisor, frozenset(r % divisor for r in residues), allowed.shift % divisor)


def _prime_factors(number: int) -> list[int]:
    """The distinct primes of ``number`` (a product of strides and scale denominators).

    >>> _prime_factors(2 ** 70 * 3 * 49)
    [2, 3, 7]
    """
    primes, factor = [], 2
    while factor * factor <= number:
        if number % factor == 0:
            primes.append(factor)
            while number % factor == 0:
                number //= factor
        factor += 1
    return primes + ([number] if number > 1 else [])


def _minimum_input(layer: Layer, axis: int, needed_out: int, convention: Convention, name: str) -> int | None:
    """The smallest input size at which the layer is valid and gives at least ``needed_out``.

    The search gallops out from an estimate of the answer, so it costs the logarithm of the
    estimate's error (about a kernel), not of the answer: a chain of stride-2 pools needs
    inputs of 2^1000 and more, and a search from 1 made fit quadratic in the depth.
    """

    def runs(size: int) -> bool:
        step = axis_step(layer, axis, size, convention)
        return size_error(layer, step, name, convention) is None and step.out_size >= needed_out

    # A layer that takes only some sizes (multiples of its partition): search for the first
    # period holding one, which grows with the size as the answer does, then take it there.
    period = _period(layer, axis) if layer.kind.op.refuses_some_sizes else 1
    if period > MAX_READ_PERIOD:  # too long to step through: the gallop alone (a later check says so)
        period = 1

    def ok(size: int) -> bool:
        return any(runs(size + j) for j in range(period))

    found = _gallop(ok, needed_out, max(1, _estimate(layer, axis, needed_out)))
    if found is None or period == 1:
        return found
    return next(found + j for j in range(period) if runs(found + j))


def _gallop(ok, needed_out: int, guess: int) -> int | None:
    """The smallest size where ``ok`` holds (it holds from some size on), searched from a guess."""
    limit = (needed_out + 1) << 64  # no layer needs 2^64 inputs an output: a safety net
    if ok(guess):  # the answer is at or below the guess: gallop down to a size that fails
        high, distance = guess, 1
        while high - distance >= 1 and ok(high - distance):
            high -= distance
            distance *= 2
        low = max(0, high - distance)
    else:  # gallop up to a size that works
        low, distance = guess, 1
        while not ok(low + distance):
            low += distance
            distance *= 2
            if low > limit:
                return None
        high = low + distance
    while high - low > 1:  # ok(high), and not ok(low) (or low is 0)
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle
    return high


def _estimate(layer: Layer, axis: int, needed_out: int) -> int:
    """Roughly the input that gives ``needed_out``: where the galloping search starts."""
    return layer.kind.op.estimate(layer, axis, needed_out)


def _first_parameter_error(stack: Stack, convention: Convention, names) -> tuple[int, Diagnostic] | None:
    """(row, diagnostic) of the first layer whose own parameters are wrong (a kernel of 0),
    each layer written once checked once (x10000 is one layer)."""
    checked: dict[int, Diagnostic | None] = {}
    for index, layer in enumerate(stack.layers, 1):
        if id(layer) not in checked:
            checked[id(layer)] = parameter_error(layer, convention, names)
        if checked[id(layer)] is not None:
            return index, checked[id(layer)]
    return None


def analyse(stack: Stack, convention: Convention = Convention.TORCH, channels: int | None = None, probe=None) -> Fit:
    """The clean-input rule of ``stack`` on every axis.

    ``probe`` is calc's result on ``huge_size(stack)``, for a caller that has run it already.

    >>> from convshape.grammar import parse_stack
    >>> analyse(parse_stack("conv k3 s2 x3", dims=1)).rules[0].describe()
    'L ≡ 7 (mod 8), L ≥ 15'
    >>> analyse(parse_stack("conv k3 s2 p1 x5", dims=1)).rules[0].describe()  # only padding is ever skipped
    'every L ≥ 1'
    """
    convention = Convention(convention)
    dims = stack.dims
    names = axis_names(dims)
    # The first layer whose own parameters are wrong, whatever the size: no formula, search or
    # rule below may divide by its kernel or stride of 0, and each path below says it in turn.
    bad = _first_parameter_error(stack, convention, names)
    if any(layer.kind.op.fixed_size(layer) for layer in stack.layers):
        if bad is not None:  # first: the sizes it tries run through every layer
            return Fit(dims, (), bad)
        finite = _finite(stack, convention, channels)
        if finite is not None:
            return finite
    sequence = next((index for index, layer in enumerate(stack.layers, 1) if layer.kind.op.makes_tokens), None)
    if sequence is not None:  # a count of tokens is a product over the axes: no rule per axis says it
        if bad is not None and bad[0] < sequence:  # a stride of 0 before it has no formula either
            return Fit(dims, (), bad)
        from .ops.tokens import UNANSWERED

        return Fit(dims, (), (sequence, Diagnostic(UNANSWERED, (), {})))
    # Rows that keep the shape (norms, activations) are here too: a graph's rows may read them.
    indexed = [(index, layer) for index, layer in enumerate(stack.layers, 1)
               if layer.kind.is_spatial or layer.kind.is_merge or layer.kind.keeps_shape]
    graph = _Graph(stack) if stack.reads else None
    if probe is None:
        from .calc import run

        sizes = (huge_size(stack),) * dims
        if graph is not None and graph.strict_merges:  # a huge size at which the merges fit
            # First the errors of parameters, channels and structure: merges cropped, every size works.
            cropped = run(probe_stack(stack), sizes, channels, convention)
            error = _stack_error(stack, cropped, convention, None, graph)
            if error is not None and not _about_size(error[1].code):
                return Fit(dims, (), error, probe=cropped)
            if bad is not None:  # a layer's own parameters, before any size
                return Fit(dims, (), bad, probe=cropped)
            sizes, error = _probe_sizes(stack, indexed, graph, convention, sizes[0])
            if error is not None:
                return Fit(dims, (), error)
        probe = run(stack, sizes, channels, convention)
        stop = probe.error_row
        if (bad is None and stop is not None and _about_size(stop.error.code)
                and not (graph is not None and graph.strict_merges)):
            # The probe stopped at a size the layer refuses (a block attention takes multiples of its
            # block; a kernel of 2^31 dilated by 10^15 wants more than 2^64): the rows after it were
            # not checked. Again, at a size every layer takes.
            probe = run(stack, _running_sizes(stack, indexed, graph, convention, sizes), channels, convention)
    gap = next((index for index, layer in enumerate(stack.layers, 1) if _global(layer)), None)
    error = _stack_error(stack, probe, convention, gap, graph) or bad
    if error is not None:  # ``bad``: a row the probe did not reach (a kernel of 0 would divide below)
        return Fit(dims, (), error, probe=probe)
    rules, steps = [], []
    done: dict[tuple, int] = {}  # an axis's numbers -> the axis already analysed with them
    for axis, name in enumerate(names):
        signature = _axis_signature([layer for _, layer in indexed], axis)
        if signature in done:  # the same numbers as an earlier axis (k3 on H and W): the same rule
            twin = done[signature]
            rules.append(rules[twin]._replace(axis=name))
            steps.extend((name, index, why._replace(name=name)) for axis_name, index, why in list(steps)
                         if axis_name == names[twin])
            continue
        done[signature] = axis
        minimum, minimums = _minimum(stack, indexed, graph, axis, convention, name)
        if minimum is None:
            return Fit(dims, (), (minimums, Diagnostic(Code.OUTPUT_TOO_SMALL, (name,), {"out_size": 0})))
        primes = _primes(indexed, axis)
        allowed, axis_steps, error = _requirement(stack, indexed, graph, axis, convention, name, primes, True, minimums)
        if error is not None:
            return Fit(dims, (), error)
        steps += axis_steps
        if graph is None and gap is not None and any(w.code is Code.FLOOR_ROUNDING and name in w.axes
                                   for row in probe.rows[gap:] for w in row.warnings):
            # After a global pool the sizes are the same for every input: so is the rounding.
            allowed = _Allowed(1, frozenset(), 0)
        allowed = _normal(allowed, primes)
        valid = EVERYTHING
        if graph is not None and graph.strict_merges:
            valid, minimum, error = _sizes_that_run(stack, indexed, graph, axis, convention, name, minimum, minimums,
                                                    primes)
            if error is not None:
                return Fit(dims, (), error)
        elif any(layer.kind.op.refuses_some_sizes for _, layer in indexed):  # only some large sizes run
            found, _, _ = _requirement(stack, indexed, graph, axis, convention, name, primes, False, minimums)
            valid = _normal(found, primes)
            if not valid.residues:
                return Fit(dims, (), (indexed[-1][0], Diagnostic(Code.OUTPUT_TOO_SMALL, (name,), {"out_size": 0})))
            minimum = next(iter(AxisRule(name, valid.modulus, tuple(sorted(valid.residues)), minimum,
                                         None).clean_sizes(minimum, minimum + valid.modulus)))
        rule = AxisRule(name, allowed.modulus, tuple(sorted(allowed.residues)), minimum, None,
                        valid.modulus, tuple(sorted(valid.residues)))
        if graph is not None:
            rule = _with_small_sizes(rule, stack, graph, axis, convention, name)
        smallest = next(iter(rule.clean_sizes(1, rule._low + allowed.modulus)), None)
        rules.append(rule._replace(smallest_clean=smallest))
    return Fit(dims, tuple(rules), None, tuple(steps), probe)


MAX_FINITE = 4096  # candidate sizes fit runs one by one where rows take one size each


def _finite(stack: Stack, convention: Convention, channels: int | None) -> Fit | None:
    """Where rows take one input size each (``expect o224``, ``expect o4x1``, MaxViT's partition
    layers built for their map): on each axis, the few input sizes that give every such row its
    size; each combination is run through calc to say whether it runs and whether it is clean.
    None where that cannot be said so: a size no formula follows, too many candidates, or
    sizes that run on one axis only with some sizes of another."""
    from itertools import product

    from .calc import run
    from .formula import evaluate, formulas

    dims = stack.dims
    names = axis_names(dims)
    layers = list(stack.layers)
    graph = _Graph(stack) if stack.reads else None
    steps = formulas(layers, dims, convention, graph.parent if graph else None)
    lows, highs = [1] * dims, [None] * dims
    for index, layer in enumerate(layers, 1):
        wanted = layer.kind.op.fixed_size(layer)
        if not wanted:
            continue
        source = (graph.parent(index) if graph else index - 1)
        before = steps[source - 1] if source else None
        if source and before is None:
            return None
        for axis in range(dims):
            if source == 0:
                first, last = wanted[axis], wanted[axis]
            else:
                expr = before[axis].expr
                first = _first_at_least(lambda x: evaluate(expr, x), wanted[axis])
                last = _first_at_least(lambda x: evaluate(expr, x), wanted[axis] + 1) - 1
            lows[axis] = max(lows[axis], first)
            highs[axis] = last if highs[axis] is None else min(highs[axis], last)
    if any(high is None for high in highs):
        return None
    ranges = [range(low, high + 1) for low, high in zip(lows, highs)]
    if not all(ranges) or prod(len(sizes) for sizes in ranges) > MAX_FINITE:  # (product() lists each range)
        return None
    valid, clean, failed = set(), set(), None
    for sizes in product(*ranges):
        result = run(stack, sizes, channels, convention)
        if result.valid:
            valid.add(sizes)
            if not any(w.code is Code.FLOOR_ROUNDING for row in result.rows for w in row.warnings):
                clean.add(sizes)
        elif failed is None:
            failed = result.error_row
    if not valid:  # the only sizes the fixed rows take fail further on: say where and why
        return Fit(dims, (), (failed.index, failed.error))
    per_axis = [sorted({sizes[axis] for sizes in valid}) for axis in range(dims)]
    clean_axis = [sorted({sizes[axis] for sizes in clean}) for axis in range(dims)]
    if valid != set(product(*per_axis)) or clean != set(product(*clean_axis)):
        return None  # one axis's sizes depend on another's: no rule per axis says it
    rules = tuple(AxisRule(name, 1, (), sizes[0], cleans[0] if cleans else None, 1, (), high + 1, tuple(cleans),
                           tuple(sizes)) for name, sizes, cleans, high in zip(names, per_axis, clean_axis, highs))
    return Fit(dims, rules, None)


def _first_at_least(size_at, wanted: int) -> int:
    """The smallest input whose size there is at least ``wanted`` (sizes grow with the input)."""
    high = 1
    while size_at(high) < wanted:
        high *= 2
        if high > 1 << 62:
            return high
    low = high // 2 + 1 if high > 1 else 1
    while low < high:
        middle = (low + high) // 2
        if size_at(middle) >= wanted:
            high = middle
        else:
            low = middle + 1
    return low


def _probe_sizes(stack: Stack, indexed, graph: _Graph, convention: Convention, huge: int):
    """Per axis, the first size from ``huge`` on at which every merge fits (or, where only
    tiny sizes run, the first of them), or an error."""
    sizes = []
    for axis, name in enumerate(axis_names(stack.dims)):
        minimum, minimums = _minimum(stack, indexed, graph, axis, convention, name)
        if minimum is None:
            return None, (minimums, Diagnostic(Code.OUTPUT_TOO_SMALL, (name,), {"out_size": 0}))
        primes = _primes(indexed, axis)
        valid, first, error = _sizes_that_run(stack, indexed, graph, axis, convention, name, minimum, minimums, primes)
        if error is not None:
            return None, error
        if not valid.residues:
            sizes.append(first)
            continue
        sizes.append(_first_from(huge, valid))
    return tuple(sizes), None


def _primes(indexed, axis: int) -> list[int]:
    """The primes of the layers' periods on one axis: the moduli a rule is made of."""
    return sorted({p for _, layer in indexed for p in _prime_factors(_period(layer, axis))})


def _first_from(start: int, valid: _Allowed) -> int:
    """The first size from ``start`` on in one of ``valid``'s residue classes (it has some)."""
    base = start - start % valid.modulus
    return min(base + r + (valid.modulus if base + r < start else 0) for r in valid.residues)


def _running_sizes(stack: Stack, indexed, graph: _Graph | None, convention: Convention,
                   huge: tuple[int, ...]) -> tuple[int, ...]:
    """Per axis, the first size from ``huge`` (or the axis's minimum, if larger) on that every
    layer takes, where some size does (where none does, the rule's search says so)."""
    sizes = []
    for axis, name in enumerate(axis_names(stack.dims)):
        minimum, minimums = _minimum(stack, indexed, graph, axis, convention, name)
        start = max(huge[axis], minimum or 0)
        primes = _primes(indexed, axis)
        found = None if minimum is None else _requirement(stack, indexed, graph, axis, convention, name, primes,
                                                          False, minimums)[0]
        valid = None if found is None else _normal(found, primes)
        if valid is None or not valid.residues:
            sizes.append(start)
            continue
        sizes.append(_first_from(start, valid))
    return tuple(sizes)


def _sizes_that_run(stack: Stack, indexed, graph: _Graph, axis: int, convention: Convention, name: str,
                    minimum: int, minimums: dict, primes: list[int]):
    """On one axis of a graph whose merges must fit: the large sizes that run, the smallest
    size that runs (from ``minimum``, every layer's own; a tiny one where only broadcasting
    lets the merges run), or the error that no size avoids."""
    valid = _valid_sizes(stack, indexed, graph, axis, convention, name, primes, minimums)
    if valid.residues:
        rule = AxisRule(name, valid.modulus, tuple(sorted(valid.residues)), minimum, None)
        return valid, next(iter(rule.clean_sizes(minimum, minimum + valid.modulus))), None
    tiny = _with_small_sizes(AxisRule(name, 1, (), minimum, None, 1, ()), stack, graph, axis, convention, name)
    if tiny.small_valid:
        return valid, tiny.small_valid[0], None
    merge_row = graph.strict_merges[0]
    return valid, None, (merge_row, Diagnostic(Code.MERGE_SIZE_MISMATCH, (name,), {
        "kind": stack.layers[merge_row - 1].kind.value, "shapes": "no input size makes its inputs agree",
        "framework": "", "hint": ""}))


MAX_RUN_PERIOD = 1 << 12


def _valid_sizes(stack: Stack, indexed, graph: _Graph, axis: int, convention: Convention, name: str,
                 primes: list[int], minimums: dict) -> _Allowed:
    """The large input sizes at which the stack runs on this axis, merges included.

    Read by running the sizes of one period of the input (the strides before the merges
    multiplied), far out, and checked against the next period: after a crop or a pad the
    size is the smaller or larger of the inputs', which a congruence on one row does not
    say. A longer period falls back to the congruences alone.
    """
    period = _graph_period(stack, graph, axis)
    if period <= MAX_RUN_PERIOD:
        base = -(-FAR // period) * period
        first = [_axis_run(stack, graph, axis, convention, name, base + j)[0] for j in range(period)]
        second = [_axis_run(stack, graph, axis, convention, name, base + period + j)[0] for j in range(period)]
        if first == second:
            return _shortest(_Allowed(period, frozenset(j for j in range(period) if first[j]), 0), primes)
    valid, _, _ = _requirement(stack, indexed, graph, axis, convention, name, primes, False, minimums)
    return _normal(valid, primes)


def _graph_period(stack: Stack, graph: _Graph, axis: int) -> int:
    """The input period after which every merge's inputs have moved on evenly: the least
    common multiple over merges of the strides multiplied along the paths into them."""
    periods = {0: 1}
    total = 1
    for index, layer in enumerate(stack.layers, 1):
        sources = stack.inputs(index)
        if _constant_output(layer, axis) is not None:
            periods[index] = 1
        elif layer.kind.is_merge:
            value = 1
            for source in sources:
                value = value * periods[source] // gcd(value, periods[source])
            periods[index] = value
            total = total * value // gcd(total, value)
        elif layer.like is not None:
            periods[index] = periods[sources[1]]
        else:
            periods[index] = periods[sources[0]] * _period(layer, axis)
        if periods[index] > MAX_RUN_PERIOD:
            periods[index] = MAX_RUN_PERIOD + 1  # past it: the congruences alone
    return total


SMALL_SCAN = 4096  # the most tiny input sizes run one by one, on an axis of a graph


def _with_small_sizes(rule: AxisRule, stack: Stack, graph: _Graph, axis: int, convention: Convention,
                      name: str) -> AxisRule:
    """The rule with the sizes below the point where every merge input that follows the
    input is at least 2 pixels wide: there a size-1 input may be broadcast, which no
    congruence says, so those sizes are run one by one (sizes only grow with the input:
    past that point it stays so)."""
    small, small_valid = [], []
    for size in range(1, SMALL_SCAN + 1):
        valid, clean, settled = _axis_run(stack, graph, axis, convention, name, size)
        if settled and size >= rule.minimum_valid:
            break
        if valid:
            small_valid.append(size)
        if clean:
            small.append(size)
    else:
        return rule  # a network this deep at tiny sizes: the congruences alone
    if not small_valid and not small:
        return rule._replace(periodic_from=size)

    # Where the sizes run one by one agree with the congruences, the congruences say them.
    def clean_by_rule(n: int) -> bool:
        return n >= rule.minimum_valid and n % rule.modulus in rule.residues

    def valid_by_rule(n: int) -> bool:
        return n >= rule.minimum_valid and n % rule.valid_modulus in rule.valid_residues

    start = size
    while start > 1 and (start - 1 in small) == clean_by_rule(start - 1) and (
            start - 1 in small_valid) == valid_by_rule(start - 1):
        start -= 1
    small = [n for n in small if n < start]
    small_valid = [n for n in small_valid if n < start]
    minimum = min(small_valid) if small_valid else rule.minimum_valid
    return rule._replace(periodic_from=start, small=tuple(small), small_valid=tuple(small_valid),
                         minimum_valid=minimum)


def _axis_run(stack: Stack, graph: _Graph, axis: int, convention: Convention, name: str, size: int):
    """The stack on one axis at one input size, sizes only: (runs, clean, settled), where
    settled says every merge input that follows the input is at least 2 wide."""
    sizes: dict[int, int | None] = {0: size}
    valid = clean = settled = True
    for index, layer in enumerate(stack.layers, 1):
        sources = stack.inputs(index)
        incoming = [sizes.get(source) for source in sources]
        if layer.kind.keeps_shape:
            if incoming[0] is not None and incoming[0] < _least(layer, convention):
                return False, False, False
            sizes[index] = incoming[0]
            continue
        if any(value is None for value in incoming) or not (layer.kind.is_spatial or layer.kind.is_merge):
            sizes[index] = None
            continue
        if layer.kind.is_merge:
            following = [value for source, value in zip(sources, incoming) if not graph._fixed(source)]
            settled = settled and all(value >= 2 for value in following)
            if layer.mode is not None:
                target = (min if layer.mode.value == "crop" else max)(incoming)
                clean = clean and len(set(incoming)) == 1
                incoming = [target] * len(incoming)
            big = set(incoming) - ({1} if not layer.kind.op.joins_channels else set())
            if len(big) > 1:  # it fails here; the sizes after it still say whether all is settled
                valid = clean = False
            sizes[index] = max(incoming)
            continue
        if layer.like is not None:
            sizes[index] = incoming[1]
            continue
        step = axis_step(layer, axis, incoming[0], convention)
        if size_error(layer, step, name, convention) is not None:
            return False, False, False  # below some layer's minimum: larger sizes are still to come
        if any(f.code is Code.FLOOR_ROUNDING for f in axis_findings(layer, step, name, convention)):
            clean = False
        sizes[index] = step.out_size
    return valid, clean, settled


def _normal(allowed: _Allowed, primes: list[int]) -> _Allowed:
    """The same sizes with the shift folded into the residues, at the smallest modulus."""
    return _shortest(_Allowed(allowed.modulus, frozenset((r + allowed.shift) % allowed.modulus
                                                         for r in allowed.residues), 0), primes)


def _intersect(a: _Allowed | None, b: _Allowed) -> _Allowed:
    """Sizes allowed by both (None: no requirement yet)."""
    if a is None or a == EVERYTHING:
        return b
    if b == EVERYTHING:
        return a
    modulus = a.modulus * b.modulus // gcd(a.modulus, b.modulus)
    residues = set()
    step = modulus // a.modulus
    for r in a.residues:  # the sizes a allows over one period of both, kept where b allows them
        base = (r + a.shift) % a.modulus
        if step <= 4096 or step <= len(b.residues):  # the shorter walk: a's sizes over the period, or
            residues.update(v for v in (base + t * a.modulus for t in range(step)) if b.allows(v))
            continue
        for q in b.residues:  # the Chinese remainder theorem, one per residue of b, for a long period of a
            target = (q + b.shift) % b.modulus
            g = gcd(a.modulus, b.modulus)
            if (target - base) % g:
                continue
            k = (target - base) // g * pow(a.modulus // g, -1, b.modulus // g) % (b.modulus // g)
            residues.add((base + k * a.modulus) % modulus)
    return _Allowed(modulus, frozenset(residues), 0)


class _Graph:
    """What fit needs of a stack's graph: who reads each row, and which merges must fit.

    Each row's size follows from one row before it, its *size parent*: the row a layer
    reads, a merge's current input (all its inputs agree where it fits), the tensor
    `up like` copies. A merge's inputs agree at input sizes fixed by their nearest common
    size ancestor: a congruence on that row's size, found over one period of the layers
    between (a few strides), never by trying network input sizes.
    """

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.readers: dict[int, list[int]] = {}
        for index in stack.reads:
            for source in stack.reads[index]:
                self.readers.setdefault(source, []).append(index)
        self.strict_merges = [index for index, layer in enumerate(stack.layers, 1)
                              if layer.kind.is_merge and layer.mode is None]
        self._merge_parent: dict[int, int] = {}
        self._fixed_rows: dict[int, bool] = {}
        for index in range(1, len(stack.layers) + 1):  # in row order, so that each row's parent is known first:
            self._fixed(index)  # asked first of the last row, a long chain of merges would recurse through them all

    def parent(self, index: int) -> int:
        sources = self.stack.inputs(index)
        layer = self.stack.layers[index - 1]
        if layer.like is not None:
            return sources[1]
        if layer.kind.is_merge and len(sources) > 1:
            if index not in self._merge_parent:
                # A merge has its inputs' size where it fits; an input of a size that follows no
                # input (an SE gate after gap) is broadcast, so the size comes from another.
                following = [source for source in sources if not self._fixed(source)]
                if following:
                    self._merge_parent[index] = following[-1]
                else:  # every input has a fixed size: the largest is the merge's (the others are 1)
                    self._merge_parent[index] = max(sources, key=self._fixed_size)
            return self._merge_parent[index]
        return sources[0]

    def _fixed_size(self, row: int) -> int:
        """Roughly how large a fixed-size row is: the size its origin (gap: 1, o7: 7) gives."""
        while row != 0:
            layer = self.stack.layers[row - 1]
            if _constant_output(layer, 0) is not None:
                return max(_constant_output(layer, axis) for axis in range(layer.dims))
            row = self.parent(row)
        return 0

    def _fixed(self, row: int) -> bool:
        """Whether the size of ``row`` (on every axis) follows no input: it comes after a gap,
        an adaptive pool or a resize to a size on its size path."""
        if row not in self._fixed_rows:
            layer = self.stack.layers[row - 1] if row else None
            self._fixed_rows[row] = row != 0 and (_constant_output(layer, 0) is not None or self._fixed(self.parent(row)))
        return self._fixed_rows[row]

    def consumers(self, row: int) -> list[int]:
        later = self.readers.get(row, [])
        if row < len(self.stack.layers) and row + 1 not in self.stack.reads:
            later = [*later, row + 1]
        return later

    def path(self, ancestor: int, row: int) -> list[int]:
        """The rows from ``ancestor`` (not included) down to ``row`` along size parents."""
        rows = []
        while row != ancestor:
            rows.append(row)
            row = self.parent(row)
        return rows[::-1]

    def constant_size(self, row: int, axis: int, convention: Convention, name: str) -> int | None:
        """The size of ``row`` where it is the same for every input (it follows a gap, an
        adaptive pool or a resize to a size), else None."""
        path = []
        while row != 0:
            layer = self.stack.layers[row - 1]
            fixed = _constant_output(layer, axis)
            if fixed is not None:
                size = fixed
                for later in reversed(path):
                    later_layer = self.stack.layers[later - 1]
                    if later_layer.kind.is_merge or later_layer.like is not None or not later_layer.kind.is_spatial:
                        continue
                    size = axis_step(later_layer, axis, size, convention).out_size
                return size
            path.append(row)
            row = self.parent(row)
        return None

    def common_ancestor(self, rows: tuple[int, ...]) -> int:
        chains = []
        for row in rows:
            chain = [row]
            while row != 0:
                row = self.parent(row)
                chain.append(row)
            chains.append(chain)
        shared = set(chains[0]).intersection(*map(set, chains[1:]))
        return max(shared)


def _least(layer: Layer, convention: Convention) -> int:
    """The smallest size a shape-keeping row takes on an axis: torch's instance norm needs more
    than one value per channel. On one axis that is 2; on several, 2 on each is a little
    stricter than torch (a 1×2 map would do), since fit's rules are per axis."""
    return layer.kind.op.least_input(layer, convention)


def _minimum(stack: Stack, indexed, graph: _Graph | None, axis: int, convention: Convention, name: str):
    """The smallest input on which every layer is valid, and each row's smallest input;
    or (None, the failing row)."""
    needed_after: dict[int, int] = {}  # row -> the smallest output its readers need
    minimums: dict[int, int] = {}
    last = len(stack.layers)
    needed = 1
    for index, layer in reversed(indexed):
        if graph is not None:
            needed = max([needed_after.pop(index, 1)] + ([1] if index == last else []))
        if _global(layer):
            needed = 1
        if layer.kind.keeps_shape:
            into = needed = max(needed, _least(layer, convention))
        elif layer.kind.is_merge or layer.like is not None:
            into = needed  # a merge's inputs (like's target) have its size
        else:
            into = _minimum_input(layer, axis, needed, convention, name)
            if into is None:
                return None, index
        minimums[index] = into
        if graph is None:
            needed = into
            continue
        for source in graph.stack.inputs(index):
            if (layer.kind.is_merge and graph._fixed(source)) or (layer.like is not None and source != graph.parent(index)):
                continue  # broadcast, or only read for its size
            needed_after[source] = max(needed_after.get(source, 1), into)
    return (needed if graph is None else needed_after.get(0, 1)), minimums


def _requirement(stack: Stack, indexed, graph: _Graph | None, axis: int, convention: Convention, name: str,
                 primes: list[int], clean: bool, minimums: dict):
    """The input sizes allowed on this axis (clean ones, or with ``clean`` False the ones
    that run at all), with the explanation per row, or an error."""
    steps = []
    if graph is None:
        allowed = EVERYTHING
        for index, layer in reversed(indexed):
            allowed = _backward(layer, axis, allowed, convention, name, FAR, primes, clean)
            if not layer.kind.keeps_shape:  # nothing to explain: it asks what the next row asks
                steps.append((name, index, _Explanation(layer_label(layer, index), allowed, name, minimums[index])))
        return allowed, steps, None
    pending: dict[int, _Allowed] = {}  # row -> what its readers allow of its output so far
    for merge in graph.strict_merges if not clean else [i for i, l in enumerate(stack.layers, 1) if l.kind.is_merge]:
        found = _merge_constraint(graph, merge, axis, convention, name)
        if found is None:
            # Its inputs agree at no large input: it runs (and is clean) at a few tiny sizes at
            # most, which _with_small_sizes lists; crop or pad makes it run, never clean.
            found = (graph.common_ancestor(stack.inputs(merge)), _Allowed(1, frozenset(), 0))
        ancestor, constraint = found
        pending[ancestor] = _intersect(pending.get(ancestor), constraint)
    last = len(stack.layers)
    for index in range(last, 0, -1):
        layer = stack.layers[index - 1]
        allowed = pending.pop(index, EVERYTHING if index == last or not graph.consumers(index) else None)
        if allowed is None:
            allowed = EVERYTHING
        if not (layer.kind.is_spatial or layer.kind.is_merge or layer.kind.keeps_shape):
            into = EVERYTHING
        elif layer.kind.is_merge or layer.like is not None or layer.kind.keeps_shape:
            into = allowed
        else:
            into = _backward(layer, axis, allowed, convention, name, FAR, primes, clean)
        if index in minimums and not layer.kind.keeps_shape:
            steps.append((name, index, _Explanation(layer_label(layer, index), into, name, minimums[index])))
        for source in stack.inputs(index):
            # A merge's inputs agree where it fits (its constraint says where): what its
            # output must be, its size parent must be; the others follow, or are broadcast.
            follows = source == graph.parent(index) or not (layer.kind.is_merge or layer.like is not None)
            pending[source] = _intersect(pending.get(source), into if follows else EVERYTHING)
    return pending.get(0, EVERYTHING), steps, None


MAX_MERGE_PERIOD = 1 << 16


def _merge_constraint(graph: _Graph, merge: int, axis: int, convention: Convention, name: str):
    """(row, sizes of that row's output at which the merge's inputs agree), or None when
    they agree at no large input (their sizes grow at different rates)."""
    stack = graph.stack
    layer = stack.layers[merge - 1]
    sources = stack.inputs(merge)
    ancestor = graph.common_ancestor(sources)
    paths = [[stack.layers[row - 1] for row in graph.path(ancestor, source)] for source in sources]
    period = 1
    for path in paths:
        for step_layer in path:
            period *= _period(step_layer, axis)
    if period > MAX_MERGE_PERIOD:
        return ancestor, EVERYTHING  # beyond what is read here: the merge is checked by calc alone
    base = -(-FAR // period) * period
    broadcast = not layer.kind.op.joins_channels and layer.mode is None  # crop and pad come first: sizes must agree
    fixed = graph.constant_size(ancestor, axis, convention, name)

    def sizes(u: int) -> list[int | None]:
        found = []
        for path in paths:
            size = u
            for step_layer in path:
                if size is None or step_layer.kind.is_merge or step_layer.like is not None or step_layer.kind.keeps_shape:
                    continue
                if not step_layer.kind.is_spatial:
                    size = None
                    continue
                step = axis_step(step_layer, axis, size, convention)
                size = step.out_size if size_error(step_layer, step, name, convention) is None else None
            found.append(size)
        return found

    def agree(values: list[int | None]) -> bool:
        if any(v is None for v in values):
            return False
        big = set(values) - ({1} if broadcast else set())
        return len(big) <= 1

    if fixed is not None:  # the common ancestor's size is the same for every input: it fits or not
        return ancestor, EVERYTHING if agree(sizes(fixed)) else _Allowed(1, frozenset(), 0)
    residues = set()
    for j in range(period):
        first, second = sizes(base + j), sizes(base + period + j)
        if agree(first) != agree(second):
            return None
        if agree(first):
            residues.add(j)
    if not residues:
        # Equal nowhere far out: either never, or sizes that grow apart (adaptive o7 against H).
        return None
    return ancestor, _Allowed(period, frozenset(residues), 0)


def _axis_signature(layers: list[Layer], axis: int) -> tuple:
    """Every per-axis number of the layers on one axis."""
    def at(values):
        return None if values is None else values[axis]
    return tuple((at(layer.kernel), at(layer.stride), at(layer.scale), at(layer.padding), at(layer.dilation),
                  at(layer.output_padding), at(layer.out)) for layer in layers)


class _Explanation(NamedTuple):
    """What one layer requires of its input, written out only when shown: the numbers of a
    deep stack run to thousands of digits, and writing them all out is quadratic."""

    layer_text: str
    allowed: _Allowed
    name: str
    minimum: int

    def __str__(self) -> str:
        return f"{self.layer_text}: {_explain(self.allowed, self.name)}, {self.name} ≥ {self.minimum}"


def _explain(allowed: _Allowed, name: str) -> str:
    residues = sorted((r + allowed.shift) % allowed.modulus for r in allowed.residues)
    if allowed.modulus == 1:
        return f"any {name}"
    shown = ", ".join(map(str, residues[:6])) + (", …" if len(residues) > 6 else "")
    return f"{name} ≡ {shown} (mod {allowed.modulus})" if residues else f"no {name}"


# A size far above any single layer's own minimum input, where every residue is valid.
FAR = 1 << 62


def probe_stack(stack: Stack) -> Stack:
    """The stack to probe on a huge input for errors no size avoids: its merges crop, so that
    sizes that do not agree there (fit says where they do) let the rows after them run."""
    if not stack.reads:
        return stack
    from .layers import MergeMode

    return stack._replace(layers=tuple(layer._replace(mode=MergeMode.CROP) if layer.kind.is_merge and layer.mode is None
                                       else layer for layer in stack.layers))


def huge_size(stack: Stack) -> int:
    """An input size far above every layer's minimum: 2^64 times what the strides (and
    scales below 1) divide it by, so that even seventy stride-2 layers leave it huge.

    >>> from convshape.grammar import parse_stack
    >>> huge_size(parse_stack("conv k3 s2 x3, up s0.5")) == 2 ** 64 * 8 * 2
    True
    """
    shrink = 1
    for layer in stack.layers:
        shrink *= layer.kind.op.shrink(layer)
    return (1 << 64) * shrink


SIZE_CODES = (Code.KERNEL_TOO_LARGE, Code.OUTPUT_TOO_SMALL, Code.INPUT_SMALLER_THAN_KERNEL, Code.NORM_SINGLE_VALUE,
              Code.ONNX_NEGATIVE_SAME_PADDING)


def _about_size(code) -> bool:
    """An error another input size may avoid."""
    return code in SIZE_CODES or getattr(code, "about_size", False)


def _stack_error(stack: Stack, probe, convention: Convention, gap: int | None,
                 graph: _Graph | None = None) -> tuple[int, Diagnostic] | None:
    """An error that no input size can avoid: a parameter, a channel count, the structure.

    ``probe`` is calc's result on a huge input: any error left there is not about sizes;
    ``gap`` is the index of the first global pool, if any.
    """
    row = probe.error_row
    if row is None:
        return None
    # A size error there is the input's fault only while sizes still follow the input:
    # after a global pool they are 1 whatever it is (`gap, up s0.5` fails at every size).
    about_size = _about_size(row.error.code)
    if graph is not None:  # after a gap, an adaptive pool or a resize to a size, sizes are fixed
        fixed = all(graph._fixed(source) for source in stack.inputs(row.index))
    else:
        fixed = any(_constant_output(layer, 0) is not None for layer in stack.layers[: row.index - 1])
    if about_size and not fixed:
        return None
    from .ops.tokens import NEEDS_TOKENS

    if row.error.code is Code.LINEAR_NEEDS_FLAT or (row.error.code is NEEDS_TOKENS and row.in_size is not None):
        from .formula import sizes_into  # its sizes are the huge input's: formulas instead

        sizes = sizes_into(list(stack.layers), row.index, stack.dims, convention, graph.parent if graph else None)
        if row.error.code is NEEDS_TOKENS:
            shape = "×".join(map(factor_text, sizes))
            return row.index, row.error._replace(numbers={**row.error.numbers, "what": f"it gets a {shape} map"})
        return row.index, linear_needs_flat(row.in_channels, sizes)
    return row.index, row.error


MAX_ALIGNED_RUNS = 4096


def aligned(result: Fit, stack: Stack, convention: Convention = Convention.TORCH, channels: int | None = None) -> Fit:
    """The clean sizes at which no merge is misaligned either (``fit --aligned``).

    Whether the fields into a merge line up depends on the input only through the
    paddings a size resolves (psame under tf), which repeat with the rule's period: one
    size per clean residue decides, run through calc with the other axes at a clean size.
    """
    convention = Convention(convention)
    if not result.valid or not stack.reads or not result.rules:
        return result
    from .calc import run

    base = [rule.smallest_clean or rule.minimum_valid for rule in result.rules]
    graph = _Graph(stack)
    rules = []
    for axis, rule in enumerate(result.rules):

        def is_aligned(size: int) -> bool:
            sizes = tuple(size if other == axis else value for other, value in enumerate(base))
            found = run(stack, sizes, channels, convention)
            return found.valid and not any(w.code is Code.MERGE_MISALIGNED and rule.axis in w.axes
                                           for row in found.rows for w in row.warnings)

        # The paddings repeat with the strides before the merges, which the clean rule's period
        # need not hold (every H is clean, but tf's psame s2 pads odd and even H apart).
        period = _graph_period(stack, graph, axis)
        modulus = rule.modulus * period // gcd(rule.modulus, period)
        residues = tuple(sorted({(r + t * rule.modulus) % modulus for r in rule.residues
                                 for t in range(modulus // rule.modulus)}))
        if len(residues) + len(rule.small) > MAX_ALIGNED_RUNS:
            residues = residues[:MAX_ALIGNED_RUNS]
        low = rule._low
        kept = tuple(r for r in residues if is_aligned(low + (r - low) % modulus))
        small = tuple(size for size in rule.small if is_aligned(size))
        shortest = _shortest(_Allowed(modulus, frozenset(kept), 0), _prime_factors(modulus))
        narrowed = rule._replace(modulus=shortest.modulus, residues=tuple(sorted(shortest.residues)), small=small)
        # the first clean size lies within one period of the narrowed rule, not of the rule before
        rules.append(narrowed._replace(smallest_clean=next(iter(narrowed.clean_sizes(1, low + narrowed.modulus)), None)))
    return result._replace(rules=tuple(rules))


def with_fit_hint(result, stack: Stack):
    """The result, its merge_size_mismatch (if that is what stops it) saying which input
    sizes near this one the whole stack fits at, from ``fit``.

    >>> from convshape.calc import run
    >>> from convshape.grammar import parse_stack
    >>> r = with_fit_hint(run(parse_stack("@a maxpool k2 up add a", input_dims=1), (7, 7), 1), parse_stack("@a maxpool k2 up add a"))
    >>> r.error_row.error.message.endswith("the whole stack fits at 6 or 8 (fit)")
    True
    """
    row = result.error_row
    if row is None or row.error.code is not Code.MERGE_SIZE_MISMATCH:
        return result
    fit = analyse(stack, result.convention, result.input_channels)
    if not fit.valid:
        return result
    near = []
    for rule, size in zip(fit.rules, result.input_size):
        below, above = rule.nearest(size)
        near.append(" or ".join(str(v) for v in (below, above) if v is not None) or "no size")
    if len(set(near)) == 1:
        near = near[:1]
    where = near[0] if len(near) == 1 else ", ".join(f"{rule.axis} {text}" for rule, text in zip(fit.rules, near))
    numbers = {**row.error.numbers, "hint": row.error.numbers["hint"] + f"; the whole stack fits at {where} (fit)"}
    rows = list(result.rows)
    rows[row.index - 1] = row._replace(error=row.error._replace(numbers=numbers))
    return result._replace(rows=tuple(rows))
