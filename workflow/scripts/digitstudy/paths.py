"""One spelling for every number that becomes part of a path, so expand() and outputs agree."""


def format_number(value):
    """0.1 -> '0.1', 0.0 -> '0', 1e-05 -> '1e-05', 66 -> '66'; never '0.10'."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def run_name(seed, lr, momentum):
    """The directory name of one training run: seed1_lr0.01_mom0.9."""
    return f"seed{int(seed)}_lr{format_number(lr)}_mom{format_number(momentum)}"
