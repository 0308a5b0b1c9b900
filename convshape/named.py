"""Named strings: the sets of words every run defines at start-up (``Kind``, ``Code``,
``Level``, ``Convention`` ...), as light classes that behave as ``str``-mixin Enums do.

``enum.Enum`` costs about 10 µs a member to define on Python 3.11, and these sets hold more
than a hundred members between them: more than a millisecond of every start. A ``Named``
class is written as an Enum is, and a member is what a ``str`` Enum's member is:

- a ``str`` equal to its value (``Kind.CONV == "conv"``), with ``name`` and ``value``;
- printed as ``Kind.CONV``, and shown as ``<Kind.CONV: 'conv'>``;
- one object: ``Kind("conv") is Kind.CONV``, through copy and pickle too.

The class iterates its members in order, has their count, and looks one up by value or, with
``[]``, by name; any other value is a ValueError, as with an Enum. Typer's options keep real
Enums (commands/), which Typer needs.

>>> @named
... class Colour(Named):
...     RED = "red"
...     DEEP_BLUE = "blue"
>>> Colour("blue") is Colour.DEEP_BLUE, Colour.RED == "red", Colour.RED.value, list(Colour)
(True, True, 'red', [<Colour.RED: 'red'>, <Colour.DEEP_BLUE: 'blue'>])
>>> Colour("green")
Traceback (most recent call last):
ValueError: 'green' is not a valid Colour
"""


class _NamedType(type):
    """The class of a set of named strings: its members, in order, and lookups."""

    _members_: tuple
    _by_value_: dict

    def __iter__(cls):
        return iter(cls._members_)

    def __len__(cls) -> int:
        return len(cls._members_)

    def __call__(cls, value):
        """The member whose value is ``value`` (a member gives itself)."""
        try:
            return cls._by_value_[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

    def __getitem__(cls, name: str):
        member = cls.__dict__.get(name)
        if member is None or type(member) is not cls:
            raise KeyError(name)
        return member


class Named(str, metaclass=_NamedType):
    """A member of a set of named strings (see the module)."""

    name: str
    value: str

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {str.__repr__(self)}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce_ex__(self, protocol):  # copy and pickle give the member itself
        return getattr, (type(self), self.name)


def named(cls):
    """Make each upper-case string attribute of ``cls`` (a ``Named`` subclass) a member."""
    return with_members(cls, [(name, value) for name, value in cls.__dict__.items()
                              if name.isupper() and type(value) is str])


def with_members(cls, pairs):
    """Give ``cls`` the members ``(name, value)``, in order."""
    members = []
    for name, value in pairs:
        member = str.__new__(cls, value)
        member.name, member.value = name, value
        setattr(cls, name, member)
        members.append(member)
    cls._members_ = tuple(members)
    cls._by_value_ = {member.value: member for member in members}  # a member hashes as its value
    return cls
