"""`python -m astrobio` is the CLI; torchrun launches ranks this way (`-m astrobio train ...`)."""

from astrobio.cli import main

if __name__ == "__main__":
    main()
