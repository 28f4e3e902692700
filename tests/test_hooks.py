import numpy as np
import pytest
import torch
from scipy import stats as sps
from torch import nn

from mnist_explore.animate import histogram_frames, save_gif
from mnist_explore.errors import UserError
from mnist_explore.hooks import Recorder, RecorderHistory, recordable_layers


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(inplace=True), nn.Linear(5, 3))


def one_step(model, optimizer, recorder, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(16, 6, generator=g), torch.randint(0, 3, (16,), generator=g)
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    recorder.step()
    return x


def recorded(steps, every=1, bins=8):
    """A tiny model trained ``steps`` steps under a recorder (closed afterwards); returns (model, recorder)."""
    model = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with Recorder(model, every=every, bins=bins) as rec:
        for s in range(steps):
            one_step(model, optimizer, rec, seed=s)
    return model, rec


def reference_hist(values, edges):
    lo, hi = edges[0], edges[-1]
    return np.histogram(np.clip(values, lo, hi), bins=len(edges) - 1, range=(lo, hi))[0]


def test_histograms_and_stats_match_references():
    model = tiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with Recorder(model, every=1, bins=16) as rec:
        before = [m.weight.detach().clone() for m in (model[0], model[2])]
        x = one_step(model, optimizer, rec)
        grads = [m.weight.grad.detach().clone() for m in (model[0], model[2])]
        h = rec.history()
    assert h.layers == ["fc1", "fc2"] and h.steps.tolist() == [0]
    for i in range(2):
        np.testing.assert_array_equal(h.hists["weights"][0, i], reference_hist(before[i].numpy(), h.edges["weights"][i]))
        np.testing.assert_array_equal(h.hists["grads"][0, i], reference_hist(grads[i].numpy(), h.edges["grads"][i]))
        assert h.stats["grad_norm"][0, i] == pytest.approx(grads[i].norm().item(), rel=1e-5)
        assert h.stats["grad_max_abs"][0, i] == pytest.approx(grads[i].abs().max().item(), rel=1e-6)
        after = (model[0], model[2])[i].weight.detach()
        ratio = ((after - before[i]).norm() / before[i].norm()).item()
        assert h.stats["update_ratio"][0, i] == pytest.approx(ratio, rel=1e-5)
        w = before[i].double().flatten().numpy()
        ks = sps.kstest(w, "norm", args=(w.mean(), w.std(ddof=1))).statistic
        assert h.stats["ks_normal"][0, i] == pytest.approx(ks, rel=1e-6)
        assert h.stats["kurtosis"][0, i] == pytest.approx(sps.kurtosis(w, fisher=True, bias=True), rel=1e-6)
    first = model[0](x).detach().numpy()  # the in-place ReLU follows: the hook saw the Linear's output
    assert h.hists["acts"][0, 0].sum() == first.size


def test_records_every_n_steps_only():
    _, rec = recorded(7, every=3, bins=96)
    h = rec.history()
    assert h.steps.tolist() == [0, 3, 6] and h.hists["weights"].shape == (3, 2, 96)


def test_hooks_are_removed():
    model, rec = recorded(1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert all(not m._forward_hooks for m in model.modules())
    assert all(not getattr(p, "_post_accumulate_grad_hooks", None) for p in model.parameters())
    before = len(rec.steps)
    one_step(model, optimizer, rec)  # a step after closing: its hooks no longer fire
    assert len(rec.rows["grads"]) == before


def test_history_round_trips_through_npz(tmp_path):
    h = recorded(3)[1].history()
    h.save(tmp_path / "h.npz")
    loaded = RecorderHistory.load(tmp_path / "h.npz")
    assert loaded.layers == h.layers and np.array_equal(loaded.steps, h.steps)
    for k in h.hists:
        np.testing.assert_array_equal(loaded.hists[k], h.hists[k])
    for k in h.stats:
        np.testing.assert_array_equal(loaded.stats[k], h.stats[k])


def test_gif_has_one_frame_per_record(tmp_path):
    import imageio.v3 as iio

    path = save_gif(histogram_frames(recorded(5)[1].history(), "grads"), "g", tmp_path)
    assert iio.imread(path).shape[0] == 5


def test_bad_layer_name_or_frequency_is_one_sentence():
    model = tiny()
    assert list(recordable_layers(model)) == ["fc1", "fc2"]
    with pytest.raises(UserError, match="Unknown layer.*conv9: choose from fc1, fc2"):
        Recorder(model, layers=["conv9"])
    for bad in (0, -5, 2.5):
        with pytest.raises(UserError, match="every must be a positive whole number"):
            Recorder(model, every=bad)
    with pytest.raises(UserError, match="Nothing was recorded yet"):
        Recorder(model).history()
    with pytest.raises(UserError, match="Unknown kind 'biases'"):
        histogram_frames(None, "biases")


def test_plugs_into_the_engine(mnist):
    from mnist_explore.data import train_val_split
    from mnist_explore.hooks import record_run
    from mnist_explore.train import TrainConfig

    train, val = train_val_split(mnist.train)
    config = TrainConfig(model="second_cnn", epochs=1, batch_size=100, optimizer="rmsprop", progress=False)
    result, h = record_run(config, train.subset(torch.arange(1000)), val.subset(torch.arange(200)), every=4)
    assert h.layers == ["conv1", "conv2", "fc1", "fc2"] and h.steps.tolist() == [0, 4, 8]
    assert len(result.history.step_loss) == 10


def test_static_views_are_titled_figures():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from mnist_explore import plots

    h = recorded(4)[1].history()
    for fig in (plots.plot_histogram_heatmaps(h, "weights"), plots.plot_histogram_heatmaps(h, "acts"),
                plots.plot_shape_stats(h)):
        assert isinstance(fig, Figure) and fig.axes[0].get_title()
    with pytest.raises(UserError, match="Unknown kind"):
        plots.plot_histogram_heatmaps(h, "biases")
    plt.close("all")


def test_gradient_figures_and_deep_mlp():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from mnist_explore import plots
    from mnist_explore.models import deep_mlp

    histories = {}
    for label, kwargs in {"sigmoid": {"activation": "sigmoid"}, "bn": {"activation": "relu", "batch_norm": True}}.items():
        torch.manual_seed(0)
        model = deep_mlp(depth=4, width=16, **kwargs)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        with Recorder(model, every=1, bins=8) as rec:
            x, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            rec.step()
        histories[label] = rec.history()
    assert histories["sigmoid"].layers == ["fc1", "fc2", "fc3", "fc4", "fc5"]
    g = histories["sigmoid"].stats["grad_mean_abs"][0]
    assert g[0] < g[-1] / 10  # sigmoid: the first layer gets far less gradient than the last
    for fig in (plots.plot_gradient_flow(histories["bn"]), plots.plot_gradient_by_depth(histories)):
        assert isinstance(fig, Figure) and fig.axes[0].get_title()
    with pytest.raises(UserError, match="Unknown activation 'gelu'"):
        deep_mlp("gelu")
    plt.close("all")
