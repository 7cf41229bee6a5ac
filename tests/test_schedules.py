"""Learning-rate decay and momentum schedules follow Pylearn2's arithmetic exactly."""
import numpy as np
import pytest

from gan2014.training_algorithms.schedules import ExponentialDecaySchedule, MomentumAdjustorSchedule


def run_decay(schedule, lr0, steps):
    lr, used = np.float32(lr0), []
    for _ in range(steps):
        used.append(lr)
        lr = schedule.next_lr(lr)
    return used


def test_decay_is_per_minibatch_from_the_float32_base():
    """lr_t = float32(float32(lr0) / d**(t-1)), computed in float64 from the float32 base, exact."""
    used = run_decay(ExponentialDecaySchedule(1.000004, .000001), .1, 1001)
    base = float(np.float32(.1))
    for t in (1, 2, 500, 1001):
        assert used[t - 1] == np.float32(base / 1.000004 ** (t - 1))
    assert all(value.dtype == np.float32 for value in used)


def test_decay_after_one_mnist_epoch_matches_the_2014_monitor():
    """After 500 minibatches the original printed learning_rate 0.099800296.

    The printed channel is a float32 example-weighted mean over 100 monitoring batches of the
    constant value, which carries accumulation error: at epoch 0 it printed 0.100000024 for exactly
    0.1 (2.4e-7 relative). Tolerance 1e-6 relative: a wrong schedule (per-epoch decay, an off-by-one
    step) is off by 4e-7 per step and 2e-3 per epoch, far outside it."""
    lr = run_decay(ExponentialDecaySchedule(1.000004, .000001), .1, 501)[-1]
    assert abs(float(lr) - 0.099800296) <= 1e-6 * 0.099800296
    off_by_one = run_decay(ExponentialDecaySchedule(1.000004, .000001), .1, 502)[-1]
    assert lr != off_by_one


def test_decay_clamps_at_min_lr_and_stays():
    """ExponentialDecay with factor "2." and min_lr "0.3" (strings converted, as Pylearn2 did) uses
    1, 0.5, then float32(0.3) for good once a value falls below it (0.25). Exact: float32 values
    computed from powers of two and a rounded constant."""
    schedule = ExponentialDecaySchedule("2.", "0.3")   # strings are converted, as Pylearn2 did
    used = run_decay(schedule, 1.0, 5)
    assert [float(v) for v in used] == [1.0, 0.5, 0.30000001192092896, 0.30000001192092896,
                                        0.30000001192092896]
    assert schedule.min_reached


def test_decay_state_round_trip():
    """A decay schedule restored from another's state_dict after 7 minibatches gives the same next
    learning rate. Exact: the same float64 formula on the same base and count, rounded to
    float32."""
    a = ExponentialDecaySchedule(1.1, 1e-6)
    run_decay(a, .1, 7)
    b = ExponentialDecaySchedule(1.1, 1e-6)
    b.load_state_dict(a.state_dict())
    assert b.next_lr(np.float32(0)) == a.next_lr(np.float32(0))


def test_momentum_schedule_includes_the_epoch0_call():
    """The adjustor is called at epoch-0 monitoring too, so epoch e trains with count = e:
    .5 in epoch 1, .5 + .2 (e-1)/249 after, .7 from epoch 250 on. Exact: float32 values, the
    expected one for epoch 2 the schedule's float64 formula (alpha = 1/249) written out and rounded
    to float32."""
    schedule, momentum = MomentumAdjustorSchedule(.7, 1, 250), np.float32(.5)
    per_epoch = []
    for _ in range(300):
        momentum = schedule.next_momentum(momentum)
        per_epoch.append(momentum)
    assert per_epoch[0] == np.float32(.5)
    assert per_epoch[1] == np.float32(.5 * (1 - 1 / 249) + .7 / 249)
    assert per_epoch[249] == np.float32(.7) and per_epoch[299] == np.float32(.7)


def test_momentum_jump_and_validation():
    """With start = saturate = 3 the momentum stays 0.5 for the first two calls and is 0.9 from the
    third; saturate below start is refused. Exact: float32 values of the two constants, and the
    error type and message."""
    schedule = MomentumAdjustorSchedule(.9, 3, 3)
    values = [schedule.next_momentum(np.float32(.5)) for _ in range(4)]
    assert values == [np.float32(.5), np.float32(.5), np.float32(.9), np.float32(.9)]
    with pytest.raises(TypeError, match="saturate"):
        MomentumAdjustorSchedule(.7, 10, 5)
