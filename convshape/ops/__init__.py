"""One module per kind family: everything about its kinds (words and tokens, size per axis
under each convention and its formula, receptive-field step, fit's period, params and MACs,
checks, --explain lines, PyTorch and Keras code, the window a picture draws). ``kinds``
is the registry that lists them; ``base.Op`` says what each answers."""
