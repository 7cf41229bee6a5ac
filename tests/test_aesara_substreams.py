"""The MRG streams' substream start states: legacy_aesara's vectorised jumps give exactly the
integers of Aesara's own row-by-row computation (Theano's), so every draw is unchanged."""
import numpy as np
import pytest

import legacy_aesara.aesara_flags  # noqa: F401  (Aesara's flags before Aesara)
from legacy_aesara import random_streams


def stock(stream, n_streams):
    """Aesara's MRG_RandomStream.get_substream_rstates on `stream`, leaving the stream as it was."""
    from aesara.sandbox.rng_mrg import MRG_RandomStream
    return MRG_RandomStream.get_substream_rstates(stream, n_streams, "float32", inc_rstate=False)


SEEDS = [1, 10097, random_streams.MRG_M2 - 1, [12345, 678, 9, 2 ** 30, 7, 2147462578]]


@pytest.mark.parametrize("seed", SEEDS)
def test_substream_states_equal_aesaras_row_by_row_jumps(seed):
    """Property: for seeds at both ends of the range and a full six-word state, every row of the
    vectorised computation equals Aesara's, for counts that end a doubling step exactly (1, 2, 4,
    1024) and ones that do not (3, 5, 1000, 1666: the 100 x 100 mask). Exact (np.array_equal):
    the arithmetic is exact integer arithmetic on both sides."""
    stream = random_streams.new_mrg_stream(10097)
    random_streams.set_master_state(stream, seed)
    for n_streams in (1, 2, 3, 4, 5, 1000, 1024, 1666):
        ours = random_streams.substream_states(stream.rstate, n_streams)
        assert ours.dtype == np.int32
        np.testing.assert_array_equal(ours, stock(stream, n_streams), err_msg=str(n_streams))


def test_the_streams_draw_as_aesaras_and_advance_the_master_state_alike():
    """Property: a stream made by new_mrg_stream and Aesara's own MRG_RandomStream with the same
    seed draw the same uniform and binomial numbers (a mask the size of D's input batch, 13,066
    substreams) and leave the same master state. Exact."""
    import aesara
    from aesara.sandbox.rng_mrg import MRG_RandomStream

    ours = random_streams.new_mrg_stream(10097)
    assert type(ours) is not MRG_RandomStream and isinstance(ours, MRG_RandomStream)
    with random_streams.quiet_mrg():
        theirs = MRG_RandomStream(10097)
    draws = []
    for stream in (ours, theirs):
        with random_streams.quiet_mrg():
            mask = stream.binomial(p=.8, size=(100, 784), dtype="float32")
            noise = stream.uniform(size=(7, 100), low=-np.sqrt(3), high=np.sqrt(3),
                                   dtype="float32")
        draws.append(aesara.function([], [mask, noise])())
        draws[-1].append(stream.rstate.copy())
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)


def test_a_bad_count_is_refused():
    """Property: asking for 0 substreams, or for 2**72 or more, raises a ValueError giving the
    valid range and the count asked for. Exact (error type and message): the message is the
    user's only guide."""
    for count in (0, -3, 2 ** 72):
        with pytest.raises(ValueError, match=rf"at least 1 and below 2\*\*72 .*got {count}$"):
            random_streams.substream_states([1] * 6, count)
