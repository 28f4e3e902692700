"""The ensemble protocol: averaging, the EMA, test-time shifts, selection on validation, resume, a sealed test set."""
from dataclasses import replace

import pytest
import torch
from torch import nn

import mnist_explore.data as data_module
from mnist_explore import ensemble
from mnist_explore.data import Dataset, Split, train_val_split
from mnist_explore.ema import EMA
from mnist_explore.ensemble import EnsembleReport, EnsembleSettings, HeldOut, Member, Selection
from mnist_explore.errors import UserError
from mnist_explore.history import History
from mnist_explore.studies import best_model
from mnist_explore.train import Callback

TINY = EnsembleSettings(models=("fast_cnn",), seeds=(0, 1), epochs=2, batch_size=64, train_size=384, val_size=256,
                        test_size=300, ema_decay=0.9)


def _report(member_probs: torch.Tensor, y: torch.Tensor) -> EnsembleReport:
    return EnsembleReport(Selection([], "raw", False, [], torch.empty(0)), member_probs, y)


def test_average_is_the_mean_of_member_probabilities_not_a_vote():
    probs = torch.softmax(torch.randn(5, 40, 10, generator=torch.Generator().manual_seed(0)), dim=-1)
    by_hand = sum(probs[m] for m in range(5)) / 5
    torch.testing.assert_close(ensemble.average(probs), by_hand)
    # Two members lean weakly to 0, one is sure of 1: a vote says 0, the average says 1.
    split = torch.tensor([[[0.55, 0.45] + [0.0] * 8]] * 2 + [[[0.02, 0.98] + [0.0] * 8]])
    assert ensemble.average(split).argmax(dim=-1).item() == 1
    with pytest.raises(UserError, match=r"stacked as \(M, N, C\)"):
        ensemble.average(probs[0])


def test_report_accuracies_votes_and_sizes():
    y = torch.tensor([0, 1, 2, 3])
    onehot = torch.eye(10)
    members = torch.stack([onehot[[0, 1, 2, 9]], onehot[[0, 1, 8, 9]], onehot[[0, 7, 2, 3]]])  # (3, 4, 10)
    report = _report(members, y)
    assert report.member_accuracies() == [0.75, 0.5, 0.75]
    assert report.wrong_counts().tolist() == [0, 1, 1, 2]
    assert report.votes[:, 3].tolist() == [9, 9, 3]
    assert report.accuracy() == 0.75 and report.errors().tolist() == [3]
    by_size = report.accuracy_by_size(orders=20)
    assert by_size["min"][-1] == by_size["max"][-1] == report.accuracy()  # every order ends with all members
    assert by_size["min"][0] == 0.5 and by_size["max"][0] == 0.75


def test_disputed_ranks_errors_by_the_probability_of_the_label():
    y = torch.tensor([0, 0, 0])
    probs = torch.tensor([[[0.30, 0.70] + [0.0] * 8, [0.05, 0.95] + [0.0] * 8, [0.9, 0.1] + [0.0] * 8]])
    assert _report(probs, y).disputed().tolist() == [1, 0]


def test_ema_follows_the_formula_and_copies_integer_buffers():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = EMA(model, decay=0.9)  # starts at the initial weights
    before = {k: v.clone() for k, v in ema.model.state_dict().items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)
    model(torch.randn(8, 3, generator=g))  # moves the BN statistics and its step counter
    ema.averaged.update_parameters(model)
    d = min(0.9, 2 / 11)  # the warm-up decay at the first step
    now = model.state_dict()
    torch.testing.assert_close(ema.model[0].weight, d * before["0.weight"] + (1 - d) * now["0.weight"])
    torch.testing.assert_close(ema.model[1].running_mean, d * before["1.running_mean"] + (1 - d) * now["1.running_mean"])
    assert ema.model[1].num_batches_tracked.item() == 1
    assert not any(p.requires_grad for p in ema.model.parameters())


def test_shift_moves_pixels_and_fills_black():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    for dy, dx in ensemble.TTA_SHIFTS:
        moved = ensemble._shift(x, dy, dx)
        assert moved[0, 0, 2 + dy, 2 + dx] == 1.0 and moved.sum() == 1.0
    edge = torch.ones(1, 1, 3, 3)
    assert ensemble._shift(edge, 1, 0)[0, 0, 0].tolist() == [0.0, 0.0, 0.0]


def _pixel_classifier(permutation: list[int]) -> nn.Module:
    """Reads class k from the brightness of pixel (14, 5 + k): a perfect classifier for the identity permutation."""
    linear = nn.Linear(784, 10, bias=False)
    with torch.no_grad():
        linear.weight.zero_()
        for k, target in enumerate(permutation):
            linear.weight[target, 14 * 28 + 5 + k] = 10.0
    return nn.Sequential(nn.Flatten(), linear)


def _pixel_split(n: int = 50) -> Split:
    y = torch.arange(n) % 10
    X = torch.zeros(n, 28, 28, dtype=torch.uint8)
    X[torch.arange(n), 14, 5 + y] = 255
    return Split(X, y)


@pytest.mark.parametrize("good", ["raw", "ema"])
def test_select_picks_the_weights_validation_prefers_and_refuses_shifts_that_hurt(good):
    right, wrong = _pixel_classifier(list(range(10))), _pixel_classifier([(k + 1) % 10 for k in range(10)])
    nets = {"raw": right, "ema": wrong} if good == "raw" else {"raw": wrong, "ema": right}
    member = Member("pixel", 0, History({}), nets["raw"], nets["ema"])
    selection = ensemble.select([member, member], _pixel_split())
    assert selection.weights == good
    assert selection.tta is False  # a one-pixel shift moves the evidence off the pixel this net reads
    assert selection.val_probs.shape == (2, 50, 10)


def test_held_out_opens_once():
    held = HeldOut(_pixel_split(), size=20)
    assert len(held.reveal()) == 20
    with pytest.raises(UserError, match="already scored once"):
        held.reveal()


class _Tripwire:
    """A test split that logs every read of its images or labels."""

    def __init__(self, split: Split, log: list):
        self._split, self._log = split, log

    @property
    def X(self):
        self._log.append("test read")
        return self._split.X

    @property
    def y(self):
        self._log.append("test read")
        return self._split.y

    def to(self, device):  # moving the split to the device is not reading it
        return _Tripwire(self._split.to(device), self._log)

    def __len__(self):
        return len(self._split)

    def subset(self, index):
        self._log.append("test read")
        return self._split.subset(index)


def test_selection_never_reads_the_test_split(mnist, monkeypatch):
    log: list[str] = []
    real_select, real_score = ensemble.select, ensemble.score

    def logged_select(*args, **kwargs):
        result = real_select(*args, **kwargs)
        log.append("selected")
        return result

    def logged_score(*args, **kwargs):
        log.append("scoring")
        return real_score(*args, **kwargs)

    def no_loading(*args, **kwargs):
        raise AssertionError("the ensemble loaded a data set by itself")

    monkeypatch.setattr(ensemble, "select", logged_select)
    monkeypatch.setattr(ensemble, "score", logged_score)
    monkeypatch.setattr(data_module, "load_dataset", no_loading)
    dataset = Dataset("mnist", mnist.classes, mnist.train, _Tripwire(mnist.test, log))
    report = best_model.run(replace(TINY, epochs=1), dataset, device="cpu", progress=False, checkpoint_dir=False)
    reads = [i for i, event in enumerate(log) if event == "test read"]
    assert reads, "scoring never read the test split"
    assert log.index("selected") < log.index("scoring") < reads[0], f"the test split was read too early: {log[:5]}"
    assert len(report.y) == TINY.test_size


class _InterruptAt(Callback):
    """Raise Ctrl-C once, at a given step of the n-th member trained."""

    def __init__(self, member: int, step: int):
        self.member, self.step, self.seen = member, step, -1

    def on_step_end(self, state):
        if state.step == 1:
            self.seen += 1
        if self.seen == self.member and state.step == self.step:
            self.step = -1
            raise KeyboardInterrupt


class _CountSteps(Callback):
    def __init__(self):
        self.steps = 0

    def on_step_end(self, state):
        self.steps += 1


def test_an_interrupted_ensemble_resumes_to_the_same_members(mnist, tmp_path):
    train, val = train_val_split(mnist.train, TINY.val_size, seed=0)
    train = train.subset(torch.arange(TINY.train_size))
    reference = ensemble.train_members(train, val, TINY, progress=False)
    steps_per_member = TINY.epochs * -(-TINY.train_size // TINY.batch_size)  # 12
    with pytest.raises(KeyboardInterrupt):
        ensemble.train_members(train, val, TINY, tmp_path, callbacks=[_InterruptAt(member=1, step=8)],
                               progress=False)
    counter = _CountSteps()
    resumed = ensemble.train_members(train, val, TINY, tmp_path, callbacks=[counter], progress=False)
    assert counter.steps == steps_per_member - 8  # member 0 was loaded, member 1 went on from step 8
    for a, b in zip(reference, resumed, strict=True):
        for weights in ("raw", "ema"):
            for (name, p), q in zip(a.net(weights).state_dict().items(), b.net(weights).state_dict().values()):
                torch.testing.assert_close(p, q, rtol=0, atol=0, msg=f"{weights} {name}")
        assert a.history.epochs == [{**e, "seconds": a.history.epochs[i]["seconds"]}
                                    for i, e in enumerate(b.history.epochs)]


def test_unknown_profile_and_bad_train_size(mnist):
    with pytest.raises(UserError, match="profile"):
        best_model.Settings.profile("huge")
    with pytest.raises(UserError, match="train_size must be between 1 and"):
        best_model.run(replace(TINY, train_size=10 ** 6), mnist, device="cpu", progress=False, checkpoint_dir=False)


def test_settings_overrides_are_checked():
    assert best_model.Settings.profile("default", members=3, epochs=1).seeds == (0, 1, 2)
    assert best_model.Settings.profile("default", epochs=1).epochs == 1
    for bad in (0, -2, 2.5, "3", True):
        with pytest.raises(UserError, match="members must be a whole number of at least 1"):
            best_model.Settings.profile("default", members=bad)
