"""`python -m reportgen …`: the same command line as the `reportgen` script."""

from reportgen.cli import main

if __name__ == "__main__":
    main()
