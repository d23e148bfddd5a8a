# ruff: noqa
# Leave a message for the next submission graded: write it on the standard streams, which a
# careless sandbox shares with every other (the zygote's stderr was once a file in /tmp).
# relay_2_read.py, graded next, reads them back.
# expect J_W3: raised
import os


def J_W3(x, y):
    for fd in (0, 1, 2):
        try:
            os.write(fd, b"@@MARKER@@-relayed\n")
        except OSError:
            pass
    raise RuntimeError("left a message")
