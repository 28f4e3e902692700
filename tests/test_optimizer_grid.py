"""The optimizer grid and the comparison built on it: names, identical starts, concurrent == sequential,
selection, ranking."""
from __future__ import annotations

import pytest
import torch

from mnist_explore import optimizer_grid as compare
from mnist_explore import ranking
from mnist_explore.studies import optimizer_comparison
from mnist_explore.data import train_val_split
from mnist_explore.errors import UserError
from mnist_explore.models import build_model
from mnist_explore.optimizers import COMPARED, build_optimizer


@pytest.fixture(scope="module")
def tiny(mnist):
    train, val = train_val_split(mnist.train)
    return train.subset(torch.arange(256)), val.subset(torch.arange(200)), mnist.test.subset(torch.arange(300))


@pytest.mark.parametrize("name", COMPARED)
def test_every_optimizer_builds_and_takes_a_step(name):
    torch.manual_seed(0)
    model = build_model("second_cnn")
    before = [p.detach().clone() for p in model.parameters()]
    opt = build_optimizer(name, model.parameters(), 0.01)
    torch.nn.functional.cross_entropy(model(torch.rand(8, 1, 28, 28)), torch.arange(8)).backward()
    opt.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(UserError, match=r"Unknown optimizer\(s\) 'adamax'.*choose from sgd, sgd_momentum"):
        compare.grid(["adam", "adamax"], [1e-3], [0])


def test_bad_learning_rates_are_refused():
    with pytest.raises(UserError, match="must be positive"):
        compare.grid(["adam"], [1e-3, 0.0], [0])


def test_shared_rate_must_be_in_the_grid():
    with pytest.raises(UserError, match="shared learning rate 0.001 must be one of"):
        optimizer_comparison.Settings.profile("quick", lrs=(1e-2,), shared_lr=1e-3)


def test_runs_of_a_seed_start_from_the_same_weights(tiny):
    group = compare._Group(compare.grid(["sgd", "adam"], [1e-3], [4]), "second_cnn", torch.device("cpu"))
    for a, b in zip(group.models[0].parameters(), group.models[1].parameters()):
        assert torch.equal(a, b)


def test_batch_order_is_seeded_and_covers_each_epoch():
    a, b = compare.batch_order(100, 10, 2, seed=1), compare.batch_order(100, 10, 2, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a, b)) and len(a) == 20
    assert sorted(torch.cat(a[:10]).tolist()) == list(range(100))
    assert not torch.equal(torch.cat(a), torch.cat(compare.batch_order(100, 10, 2, seed=2)))


def test_identical_seeds_give_identical_curves(tiny):
    train, val, _ = tiny
    specs = compare.grid(["rmsprop"], [1e-3], [0])
    a = compare.train_group(specs, train, val, epochs=1, progress=False)[0]
    b = compare.train_group(specs, train, val, epochs=1, progress=False)[0]
    assert a.train_loss == b.train_loss and a.val_acc == b.val_acc


def test_concurrent_runs_match_sequential_ones(tiny):
    """One vmapped pass over 6 models gives each the numbers it gets alone (dropout masks included)."""
    train, val, _ = tiny
    specs = compare.grid(["sgd_momentum", "adadelta", "adam"], [1e-2, 1.0], [3])
    together = compare.train_group(specs, train, val, epochs=2, progress=False)
    alone = compare.train_group(specs, train, val, epochs=2, concurrent=False, progress=False)
    for t, a in zip(together, alone):
        assert t.spec == a.spec and len(t.train_loss) == 4
        torch.testing.assert_close(torch.tensor(t.train_loss), torch.tensor(a.train_loss), rtol=1e-4, atol=1e-5)
        assert max(abs(x - y) for x, y in zip(t.val_acc, a.val_acc)) <= 0.01  # at most 2 of 200 flip
        for k in t.state:
            torch.testing.assert_close(t.state[k], a.state[k], rtol=1e-3, atol=1e-4)


def test_groups_need_one_seed(tiny):
    train, val, _ = tiny
    with pytest.raises(ValueError, match="share a seed"):
        compare.train_group(compare.grid(["adam"], [1e-3], [0, 1]), train, val, epochs=1, progress=False)


def _run(opt, lr, seed, acc):
    return compare.GridRun(compare.Spec(opt, lr, seed), epochs=[1.0], train_loss=[0.1], val_acc=[acc])


def test_selection_takes_the_best_mean_over_seeds_and_the_smaller_rate_on_ties():
    runs = [_run("sgd", 0.1, 0, 0.9), _run("sgd", 0.1, 1, 0.7), _run("sgd", 1.0, 0, 0.85), _run("sgd", 1.0, 1, 0.85),
            _run("adam", 1e-3, 0, 0.9), _run("adam", 1e-2, 0, 0.9)]
    assert compare.select_lrs(runs) == {"sgd": 1.0, "adam": 1e-3}


def test_diverged_runs_lose_the_selection():
    runs = [_run("sgd", 1.0, 0, float("nan")), _run("sgd", 0.1, 0, 0.2)]
    assert compare.select_lrs(runs) == {"sgd": 0.1}
    assert compare.GridRun(compare.Spec("sgd", 1.0, 0), [1.0], [float("inf")], [0.1]).diverged


def test_ranking_tiers_split_only_where_every_seed_beats_every_seed():
    accs = {"a": [0.99, 0.98, 0.985], "b": [0.982, 0.975, 0.97], "c": [0.95, 0.96, 0.955], "d": [0.958, 0.94, 0.945]}
    ranks = ranking.rank(accs, dict.fromkeys(accs, 1e-3))
    assert [(r.optimizer, r.tier) for r in ranks] == [("a", 1), ("b", 1), ("c", 2), ("d", 2)]
    assert ranking.separated([0.9, 0.91], [0.8, 0.85]) and not ranking.separated([0.9, 0.8], [0.85, 0.7])


def test_study_scores_only_the_chosen_runs_on_test(mnist, monkeypatch):
    seen = []
    original = compare.test_accuracy

    def spy(runs, test, *args, **kwargs):
        seen.append([r.spec for r in runs])
        return original(runs, test, *args, **kwargs)
    monkeypatch.setattr(optimizer_comparison, "test_accuracy", spy)
    settings = optimizer_comparison.Settings.profile("quick", train_size=128, val_size=100, epochs=1,
                                                     lrs=(1e-3, 1e-1), seeds=(0, 1), optimizers=("sgd", "adam"))
    study = optimizer_comparison.run(settings, mnist, device="cpu", progress=False)
    assert len(study.runs) == 8 and set(study.best_lr) == {"sgd", "adam"}
    scored = [s for specs in seen for s in specs]
    assert len(scored) == 4 and set(scored) == {compare.Spec(o, study.best_lr[o], seed)
                                                 for o in ("sgd", "adam") for seed in (0, 1)}
    assert set(study.protocol_a()) == {"sgd", "adam"} and all(r.spec.lr == 1e-3 for r in study.protocol_a().values())
