"""The Aesara backend's randomness, in one place: its MRG streams, their seeding, the run's seed
(--seed or $GAN2014_MRG_SEED_OFFSET), and the streams' state for checkpoints.

As in Pylearn2 every random draw of training comes from a Theano/Aesara MRG31k3p stream: the
Generator's own noise stream (seeded 10097, gan2014/seeds.py) and one fresh stream per dropout
pass, seeded when its graph is built by a draw of the owning MLP's RandomState
(docs/pylearn2_semantics.md#random-streams). A stream has a master state (`rstate`, advanced each
time a graph draws from it) and one shared variable per draw in the graph (`state_updates`); only
this module reads or writes them. Weight init and batch order are numpy RandomStates fixed by the
YAML (gan2014.models.init, the SGD's RandomState) and are not here.
"""
import contextlib
import functools
import os
import warnings
from collections import OrderedDict

import numpy as np

from gan2014.seeds import GENERATOR_NOISE_SEED

# MRG31k3p's second modulus: a seed (each of its six state words) must be in [1, MRG_M2).
MRG_M2 = 2147462579
# The largest seed shift: dropout seeds are draws below 2**15, so every shifted seed stays < M2.
MAX_OFFSET = 2 ** 30


@contextlib.contextmanager
def quiet_mrg():
    """A context in which Aesara's MRG module and its stream-count guess stay silent.

    Aesara deprecates `aesara.sandbox.rng_mrg` (and warns when the number of streams is guessed
    from a symbolic size, as Theano did), but MRG31k3p is the generator the 2014 code used.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*rng_mrg.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=".*MRG_RandomStream.*")
        yield


# ------------------------------------------------------------------------------ the run's seed
# Environment variable: a non-negative integer added to the seed of every MRG stream (the
# generator's noise, each dropout pass, noise_both). Unset or 0 gives the 2014 seeds exactly. Weight
# init and batch order stay as the YAML says, only noise and dropout draws change
# (parity_tests/statistical_parity.py trains several seeds of each backend this way).
MRG_SEED_OFFSET_VARIABLE = "GAN2014_MRG_SEED_OFFSET"
# Set by `python -m legacy_aesara.run --seed N` (set_run_seed); when set it wins over the variable.
_command_line_offset = None


def mrg_seed_offset():
    """The shift added to every MRG seed: --seed's if given, else $GAN2014_MRG_SEED_OFFSET's
    (0 when unset); a ValueError if the variable is not an integer in [0, 2**30]."""
    if _command_line_offset is not None:
        return _command_line_offset
    text = os.environ.get(MRG_SEED_OFFSET_VARIABLE, "").strip() or "0"
    try:
        offset = int(text)
    except ValueError:
        offset = -1
    if offset < 0 or offset > MAX_OFFSET:
        raise ValueError(f"{MRG_SEED_OFFSET_VARIABLE} must be an integer in [0, 2**30], "
                         f"got {text!r}")
    return offset


def run_seed():
    """The run's seed in --seed's terms: the Generator's noise-stream seed, 10097 + the shift."""
    return GENERATOR_NOISE_SEED + mrg_seed_offset()


def set_run_seed(seed):
    """--seed N: the Generator's noise stream is seeded N and every other MRG seed is shifted by
    the same N - 10097 (so --seed 10097 + k equals $GAN2014_MRG_SEED_OFFSET=k, and port_torch's
    --seed 10097 + k is its counterpart). None clears it. Takes effect for streams built later,
    i.e. call it before the YAML is read. A ValueError names the allowed range."""
    global _command_line_offset
    _command_line_offset = None if seed is None else seed_offset(seed)


def seed_offset(seed):
    """The shift of every MRG seed that --seed `seed` means; a ValueError outside the range."""
    offset = int(seed) - GENERATOR_NOISE_SEED
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"--seed must be in [{GENERATOR_NOISE_SEED}, "
                         f"{GENERATOR_NOISE_SEED + MAX_OFFSET}] (the Generator's MRG seed "
                         f"{GENERATOR_NOISE_SEED} plus a shift of every MRG seed), got {seed}")
    return offset


def new_mrg_stream(seed):
    """theano.sandbox.rng_mrg.MRG_RandomStreams(seed), under its Aesara name; the seed is shifted
    by mrg_seed_offset() (default 0: the original seeds)."""
    offset = mrg_seed_offset()
    with quiet_mrg():
        return _stream_class()(seed + offset if offset else seed)


# ------------------------------------------------------------------------------ substream states
def substream_states(first, n_streams):
    """The (n_streams, 6) int32 start states of an MRG draw's substreams: row i is `first` jumped
    2**72 steps i times, i.e. J**i first mod m on each half (J = A1p72 mod M1 for words 0-2,
    A2p72 mod M2 for words 3-5), exactly what MRG_RandomStream.get_substream_rstates computes.

    Aesara (like Theano) takes the jumps one row at a time, one compiled-function call per row:
    a 100 x 784 dropout mask has 13,066 substreams, so every graph that draws one spends seconds
    here. By doubling (rows [k, 2k) are J**k times rows [0, k); then J <- J**2) the same integers
    come from log2(n) vectorised steps. Every product is below 2**62 and every sum of three
    reduced products below 3 * 2**31, so int64 arithmetic is exact and the result is the same
    integers (tests/test_aesara_substreams.py)."""
    from aesara.sandbox.rng_mrg import A1p72, A2p72, M1, M2

    if not 0 < n_streams < 2 ** 72:
        raise ValueError("the number of substreams must be at least 1 and below 2**72 (the "
                         f"generator's substreams are 2**72 steps apart), got {n_streams}")
    states = np.empty((n_streams, 6), dtype=np.int64)
    states[0] = np.asarray(first, dtype=np.int64)
    halves = [(slice(0, 3), np.asarray(A1p72, dtype=np.int64), M1),
              (slice(3, 6), np.asarray(A2p72, dtype=np.int64), M2)]
    filled = 1
    while filled < n_streams:
        take = min(filled, n_streams - filled)
        for words, jump, modulus in halves:
            source = states[:take, words]
            states[filled:filled + take, words] = (
                (jump[None, :, :] * source[:, None, :]) % modulus).sum(axis=-1) % modulus
        halves = [(words, ((jump[:, :, None] * jump[None, :, :]) % modulus).sum(axis=1) % modulus,
                   modulus) for words, jump, modulus in halves]
        filled += take
    return states.astype(np.int32)


@functools.cache
def _stream_class():
    """MRG_RandomStream with its substream states computed by substream_states (same integers);
    built on first use, after the project's Aesara flags are set."""
    with quiet_mrg():
        from aesara.sandbox.rng_mrg import MRG_RandomStream

    class MRGStream(MRG_RandomStream):
        """Theano's MRG_RandomStreams: every draw as Aesara's; only the substream start states
        are computed in one vectorised pass (substream_states)."""

        def get_substream_rstates(self, n_streams, dtype, inc_rstate=True):
            assert isinstance(dtype, str)
            states = substream_states(self.rstate, n_streams)
            if inc_rstate:
                self.inc_rstate()
            return states

    return MRGStream


def mrg_normal(stream, shape, dtype):
    """stream.normal(size=shape, dtype=dtype), quietly."""
    with quiet_mrg():
        return stream.normal(size=shape, dtype=dtype)


# ------------------------------------------------------------------------------ master states
def check_stream_seed(seed, option="--seed"):
    """`seed` as an int if it can seed an MRG stream, else a ValueError naming `option`."""
    if not 1 <= int(seed) < MRG_M2:
        raise ValueError(f"{option} must be in [1, {MRG_M2}) for the MRG stream, got {seed}")
    return int(seed)


def set_master_state(stream, state):
    """Seed the stream's master state: an int seed, or six ints saved by master_state."""
    stream.set_rstate(int(state) if np.ndim(state) == 0 else [int(v) for v in state])


def master_state(stream):
    return [int(v) for v in stream.rstate]


@contextlib.contextmanager
def seeded_for_a_moment(stream, seed):
    """Within the block `stream` draws from master state `seed`; afterwards its master state and
    its list of draws are as before (graphs built inside keep their own state variables)."""
    saved, drawn = stream.rstate.copy(), len(stream.state_updates)
    set_master_state(stream, seed)
    try:
        yield stream
    finally:
        stream.rstate = saved
        del stream.state_updates[drawn:]


# ------------------------------------------------------------------------------ checkpoints
def model_streams(model):
    """Every MRG stream of an AdversaryPair with a stable name, in creation order: G's noise
    stream, then each dropout pass's stream of G's and of D's MLP."""
    streams = [("G/noise", model.generator.theano_rng)]
    for prefix, mlp in (("G", model.generator.mlp), ("D", model.discriminator)):
        for index, stream in enumerate(mlp.dropout_streams):
            streams.append((f"{prefix}/dropout{index}", stream))
    return streams


def _state_variables(model):
    """`rng/<stream>/<draw>` -> the shared variable holding that draw's per-substream states."""
    states = OrderedDict()
    for stream_name, stream in model_streams(model):
        for index, update in enumerate(stream.state_updates):
            states[f"rng/{stream_name}/{index}"] = update[0]
    return states


def checkpoint_arrays(model):
    """{`rng/<stream>/<draw>`: int32 array}: what the compiled functions' draws continue from."""
    return OrderedDict((name, np.array(variable.get_value()))
                       for name, variable in _state_variables(model).items())


def checkpoint_master_states(model):
    """{stream name: its six-int master state} (what graphs built later would start from)."""
    return {name: master_state(stream) for name, stream in model_streams(model)}


def restore_checkpoint(model, arrays, master_states, checked):
    """Set every stream from checkpoint_arrays / checkpoint_master_states output. Arrays missing
    from the checkpoint (a torch checkpoint has none) leave their streams as seeded.
    `checked(arrays, name, shape, dtype)` returns the array after checking its shape."""
    for name, variable in _state_variables(model).items():
        if name in arrays:
            variable.set_value(checked(arrays, name, variable.get_value().shape, "int32"))
    for name, stream in model_streams(model):
        saved = (master_states or {}).get(name)
        if saved is not None:
            stream.rstate = np.asarray(saved, dtype="int32")
