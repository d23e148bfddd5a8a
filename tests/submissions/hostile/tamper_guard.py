# ruff: noqa
# Take the grader's import guard out of sys.meta_path (at load, in a call, by replacing the
# list), then import jax or the project's reference gradients; an exception whose text and
# exit code raise when read. The guard is back before every call; the imports find nothing.
# expect J_W3: integrity
# expect J_b3: integrity
# expect J_W2: integrity
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: exit
import sys

sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "ImportGuard"]


def J_W3(x, y):
    import jax

    return jax.numpy.zeros((2, 7))


def J_b3(x, y):
    sys.meta_path.clear()
    from reference.backprop import gradients

    return gradients


def J_W2(x, y):
    sys.meta_path = tuple(sys.meta_path)
    return W2 * 0


class Loud(Exception):
    def __str__(self):
        return str(self)


class Hidden(Exception):
    @property
    def __traceback__(self):
        raise RuntimeError("no traceback")


class Code:
    def __repr__(self):
        raise RuntimeError("no repr")


def J_b2(x, y):
    raise Loud()


def J_W1(x, y):
    raise Hidden()


def J_b1(x, y):
    sys.exit(Code())
