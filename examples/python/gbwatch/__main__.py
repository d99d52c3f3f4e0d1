"""`python -m gbwatch ARGS...`: runs the gbwatch monitor installed with this package."""

import os
import sys

from gbwatch import find_gbwatch_bin


def main():
    path = find_gbwatch_bin()
    if path is None:
        print("gbwatch: this gbwatch package has no monitor binary (it came as the publisher alone): "
              "install the wheel (pip install gbwatch-*.whl) or build one with "
              "maturin build --release -m examples/python/pyproject.toml", file=sys.stderr)
        return 2
    os.execv(path, [path, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
