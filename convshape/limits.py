"""What convshape will not work out, said as such: a clear error (exit 1), not a hang."""


class BeyondReach(Exception):
    """A question whose answer would take work out of proportion to the stack (a stride of
    2^31 makes fit read 2^31 input sizes): the message says what to give instead."""
