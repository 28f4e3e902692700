import pytest
import torch

from mnist_explore.errors import UserError
from mnist_explore.optimizers import OPTIMIZERS, build_optimizer
from mnist_explore.schedules import build_schedule, keras_steps


def torch_lrs(make_scheduler, steps, lr=0.1, step_every=1):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for step in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if (step + 1) % step_every == 0 and step < steps - 1:
            scheduler.step()
    return lrs


def test_onecycle_matches_torch():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=100, pct_start=0.25), 100)
    schedule = build_schedule("onecycle", 0.1, 100, 10)
    assert [schedule(s) for s in range(100)] == pytest.approx(expected, rel=1e-12)


def test_cosine_matches_torch():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=100), 100)
    schedule = build_schedule("cosine", 0.1, 100, 10)
    assert [schedule(s) for s in range(100)] == pytest.approx(expected, rel=1e-12)


def test_exponential_matches_torch_at_epoch_starts():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 50, step_every=10)
    schedule = build_schedule("exponential", 0.1, 50, 10)
    assert [schedule(s) for s in range(0, 50, 10)] == pytest.approx(expected[::10], rel=1e-12)


def test_keras_steps_at_given_steps():
    schedule = keras_steps(1.0, total_steps=70, steps_per_epoch=10)  # 1 epoch of 0.01, then 3 parts of 20 steps
    assert [schedule(s) for s in (0, 9, 10, 29, 30, 49, 50, 69)] == \
        pytest.approx([0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_custom_and_constant_schedules():
    schedule = build_schedule(lambda step, total: 0.5 * (1 - step / total), 0.1, 100, 10)
    assert schedule(0) == 0.5 and schedule(50) == 0.25
    assert build_schedule("constant", 0.3, 100, 10)(77) == 0.3


def test_unknown_schedule_lists_the_choices():
    with pytest.raises(UserError, match="Unknown schedule 'warmup': choose one of constant, onecycle"):
        build_schedule("warmup", 0.1, 10, 1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_builds_and_steps(name):
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = build_optimizer(name, [weight], lr=0.1)
    (weight ** 2).sum().backward()
    optimizer.step()
    assert not torch.equal(weight.detach(), torch.ones(3))


def test_walkthrough_momentum_and_bad_names():
    assert build_optimizer("sgd_momentum", [torch.nn.Parameter(torch.ones(1))], 0.01).defaults["momentum"] == 0.9
    with pytest.raises(UserError, match="Unknown optimizer 'lbfgs': choose one of sgd, sgd_momentum"):
        build_optimizer("lbfgs", [], 0.1)
    with pytest.raises(UserError, match="learning rate must be positive"):
        build_optimizer("adam", [torch.nn.Parameter(torch.ones(1))], 0)


@pytest.mark.parametrize("total_steps", [1, 2, 3, 4])
def test_onecycle_survives_runs_too_short_for_a_warm_up(total_steps):
    schedule = build_schedule("onecycle", 0.1, total_steps, total_steps)
    rates = [schedule(step) for step in range(total_steps)]
    assert all(0 < r <= 0.1 for r in rates)
    assert rates == sorted(rates, reverse=True)  # straight to the peak, then down
