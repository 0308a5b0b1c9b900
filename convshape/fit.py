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
from math import gcd
from typing import Iterator, NamedTuple

from .arithmetic import axis_step
from .diagnostics import Code, Diagnostic, axis_findings, linear_needs_flat, size_error
from .grammar import Stack
from .layers import Convention, Kind, Layer, axis_names, layer_label


class AxisRule(NamedTuple):
    """The clean input sizes on one axis: ``size ≡ r (mod modulus)`` for r in residues,
    and ``size ≥ minimum_valid``; ``smallest_clean`` is the first such size (None: none)."""

    axis: str
    modulus: int
    residues: tuple[int, ...]
    minimum_valid: int
    smallest_clean: int | None

    def describe(self) -> str:
        """The rule in words.

        >>> AxisRule("H", 32, (1,), 33, 33).describe()
        'H ≡ 1 (mod 32), H ≥ 33'
        """
        if not self.residues:
            return f"no {self.axis} is clean"
        if len(self.residues) == self.modulus:
            return f"every {self.axis} ≥ {self.minimum_valid}"
        shown = ", ".join(map(str, self.residues[:8])) + (", …" if len(self.residues) > 8 else "")
        return f"{self.axis} ≡ {shown} (mod {self.modulus}), {self.axis} ≥ {self.minimum_valid}"

    def clean_sizes(self, start: int, stop: int) -> Iterator[int]:
        """Every clean size in start..stop (inclusive), in order, one period at a time."""
        first = max(start, self.minimum_valid)
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
        low = max(start, self.minimum_valid)
        if low > stop:
            return 0
        return sum((stop - r) // self.modulus - (low - 1 - r) // self.modulus for r in self.residues)

    def nearest(self, size: int) -> tuple[int | None, int | None]:
        """The clean sizes at or just below, and at or just above, ``size``."""
        if not self.residues:
            return None, None
        below = None
        period_base = size - size % self.modulus
        for base in (period_base, period_base - self.modulus):
            candidates = [base + r for r in self.residues if self.minimum_valid <= base + r <= size]
            if candidates:
                below = max(candidates)
                break
        above = None
        start = max(size, self.minimum_valid)
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


def _period(layer: Layer, axis: int) -> int:
    """How much the layer's input must grow to move its output by a whole step."""
    if layer.kind.is_windowed:
        return layer.stride[axis]
    if layer.kind is Kind.UP:
        return layer.scale[axis].denominator
    return 1


def _backward(layer: Layer, axis: int, allowed: _Allowed, convention: Convention, name: str, far: int,
              primes: list[int] | None = None) -> _Allowed:
    """The input sizes of ``layer`` that are clean there and lead to allowed outputs.

    ``primes``: every prime of the moduli on this axis (found from the modulus if not given).
    """
    kind = layer.kind
    if kind in (Kind.GAP, Kind.FLATTEN, Kind.LINEAR):
        return EVERYTHING
    period = _period(layer, axis)
    if period == 1 and kind is not Kind.CONVT and kind is not Kind.UP:
        # A pad or a stride-1 window: the output is the input plus a constant, always clean.
        step = axis_step(layer, axis, far, convention)
        return _Allowed(allowed.modulus, allowed.residues, allowed.shift - (step.out_size - far))
    modulus = allowed.modulus * period
    base, one, advance = _one_period(layer, axis, convention, name, far)
    if advance is None:
        return _enumerated(layer, axis, allowed, convention, name, -(-far // modulus) * modulus, modulus, primes)
    # Input base + j + q·period gives output f_j + q·advance, for q in 0..M−1 (M the
    # output's modulus): allowed where q·advance ≡ r + shift − f_j (mod M) for an allowed r.
    outputs = allowed.modulus
    common = gcd(advance, outputs)
    inverse = pow(advance // common, -1, outputs // common)
    residues = set()
    for j, (step, valid, clean) in enumerate(one):
        if not (valid and clean):
            continue
        for r in allowed.residues:
            wanted = r + allowed.shift - step.out_size
            if wanted % common:
                continue
            q = wanted // common * inverse % (outputs // common)
            residues.update((base + j + (q + t * (outputs // common)) * period) % modulus for t in range(common))
    return _shortest(_Allowed(modulus, frozenset(residues), 0), primes)


@lru_cache(maxsize=256)  # a repeated layer (x10000) is read once
def _one_period(layer: Layer, axis: int, convention: Convention, name: str, far: int):
    """The layer over one period of inputs from ``base``: (base, [(step, valid, clean)], advance).

    One period of inputs decides everything: one more period on, every output has moved on
    by the same ``advance``, and whether an input is clean repeats (``advance`` is None
    where it does not). ``base`` is a multiple of the period far above every minimum; not
    of the modulus, which runs to thousands of digits in a deep stack.
    """
    period = _period(layer, axis)
    base = -(-far // period) * period
    one, two = ([_step(layer, axis, base + start + j, convention, name) for j in range(period)] for start in (0, period))
    advance = two[0][0].out_size - one[0][0].out_size
    if advance < 1 or any(b[0].out_size - a[0].out_size != advance or a[1:] != b[1:] for a, b in zip(one, two)):
        return base, one, None
    return base, one, advance


def _enumerated(layer: Layer, axis: int, allowed: _Allowed, convention: Convention, name: str, base: int,
                modulus: int, primes: list[int] | None = None) -> _Allowed:
    """The same, input by input over a whole modulus: for a layer whose outputs do not
    move on evenly from one period to the next (none known; a safety net)."""
    residues = set()
    for offset in range(modulus):
        step, valid, clean = _step(layer, axis, base + offset, convention, name)
        if valid and clean and allowed.allows(step.out_size):
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

    def ok(size: int) -> bool:
        step = axis_step(layer, axis, size, convention)
        return size_error(layer, step, name, convention) is None and step.out_size >= needed_out

    limit = (needed_out + 1) << 64  # no layer needs 2^64 inputs an output: a safety net
    guess = max(1, _estimate(layer, axis, needed_out))
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
    if layer.kind.is_windowed:  # floor((I + P − kₑ)/s) + 1 ≥ n from I = (n − 1)·s + kₑ − P
        padding = sum(layer.padding[axis]) if layer.padding else 0
        return (needed_out - 1) * layer.stride[axis] + layer.dilation[axis] * (layer.kernel[axis] - 1) + 1 - padding
    if layer.kind is Kind.CONVT:
        return needed_out // layer.stride[axis]
    if layer.kind is Kind.UP:
        scale = layer.scale[axis]
        return needed_out * scale.denominator // scale.numerator if scale > 0 else 1
    return needed_out


def analyse(stack: Stack, convention: Convention = Convention.TORCH, channels: int | None = None, probe=None) -> Fit:
    """The clean-input rule of ``stack`` on every axis.

    ``probe`` is calc's result on ``huge_size(stack)``, for a caller that has run it already.

    >>> from convshape.grammar import parse_stack
    >>> analyse(parse_stack("conv k3 s2 x3", dims=1)).rules[0].describe()
    'L ≡ 7 (mod 8), L ≥ 15'
    >>> analyse(parse_stack("conv k3 s2 p1 x5", dims=1)).rules[0].describe()  # only padding is ever skipped
    'every L ≥ 1'
    """
    dims = stack.dims
    names = axis_names(dims)
    if probe is None:
        from .calc import run

        probe = run(stack, (huge_size(stack),) * dims, channels, convention)
    gap = next((index for index, layer in enumerate(stack.layers, 1) if layer.kind is Kind.GAP), None)
    error = _stack_error(stack, probe, convention, gap)
    if error is not None:
        return Fit(dims, (), error)
    indexed = [(index, layer) for index, layer in enumerate(stack.layers, 1) if layer.kind.is_spatial]
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
        # The minimum valid input: backwards, each layer's smallest input for the output the next needs.
        needed = 1
        minimums = {}
        for index, layer in reversed(indexed):
            if layer.kind is Kind.GAP:
                needed = 1
            needed = _minimum_input(layer, axis, needed, convention, name)
            if needed is None:
                return Fit(dims, (), (index, Diagnostic(Code.OUTPUT_TOO_SMALL, (name,), {"out_size": 0})))
            minimums[index] = needed
        minimum = needed
        allowed = EVERYTHING
        primes = sorted({p for _, layer in indexed for p in _prime_factors(_period(layer, axis))})
        for index, layer in reversed(indexed):
            allowed = _backward(layer, axis, allowed, convention, name, FAR, primes)
            steps.append((name, index, _Explanation(layer_label(layer, index), allowed, name, minimums[index])))
        if gap is not None and any(w.code is Code.FLOOR_ROUNDING and name in w.axes
                                   for row in probe.rows[gap:] for w in row.warnings):
            # After a global pool the sizes are the same for every input: so is the rounding.
            allowed = _Allowed(1, frozenset(), 0)
        allowed = _shortest(_Allowed(allowed.modulus, frozenset((r + allowed.shift) % allowed.modulus for r in allowed.residues), 0), primes)
        rule = AxisRule(name, allowed.modulus, tuple(sorted(allowed.residues)), minimum, None)
        smallest = next(iter(rule.clean_sizes(minimum, minimum + allowed.modulus)), None)
        rules.append(rule._replace(smallest_clean=smallest))
    return Fit(dims, tuple(rules), None, tuple(steps))


def _axis_signature(layers: list[Layer], axis: int) -> tuple:
    """Every per-axis number of the layers on one axis."""
    def at(values):
        return None if values is None else values[axis]
    return tuple((at(layer.kernel), at(layer.stride), at(layer.scale), at(layer.padding), at(layer.dilation),
                  at(layer.output_padding)) for layer in layers)


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


def huge_size(stack: Stack) -> int:
    """An input size far above every layer's minimum: 2^64 times what the strides (and
    scales below 1) divide it by, so that even seventy stride-2 layers leave it huge.

    >>> from convshape.grammar import parse_stack
    >>> huge_size(parse_stack("conv k3 s2 x3, up s0.5")) == 2 ** 64 * 8 * 2
    True
    """
    shrink = 1
    for layer in stack.layers:
        if layer.kind.is_windowed:
            shrink *= max([1, *layer.stride])  # a stride below 1 is an error of its own
        elif layer.kind is Kind.UP:
            shrink *= max([1, *(-(-scale.denominator // scale.numerator) for scale in layer.scale if scale > 0)])
    return (1 << 64) * shrink


def _stack_error(stack: Stack, probe, convention: Convention, gap: int | None) -> tuple[int, Diagnostic] | None:
    """An error that no input size can avoid: a parameter, a channel count, the structure.

    ``probe`` is calc's result on a huge input: any error left there is not about sizes;
    ``gap`` is the index of the first global pool, if any.
    """
    row = probe.error_row
    if row is None:
        return None
    # A size error there is the input's fault only while sizes still follow the input:
    # after a global pool they are 1 whatever it is (`gap, up s0.5` fails at every size).
    about_size = row.error.code in (Code.KERNEL_TOO_LARGE, Code.OUTPUT_TOO_SMALL, Code.INPUT_SMALLER_THAN_KERNEL)
    if about_size and (gap is None or gap >= row.index):
        return None
    if row.error.code is Code.LINEAR_NEEDS_FLAT:  # its sizes are the huge input's: formulas instead
        from .symbolic import sizes_into

        return row.index, linear_needs_flat(row.in_channels, sizes_into(list(stack.layers), row.index, stack.dims, convention))
    return row.index, row.error
