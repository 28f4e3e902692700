"""The explorers' Python side, driven as the widgets' events drive it; tests/browser/test_lab.py drives the
widgets themselves in JupyterLab."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_explore import explore
from mnist_explore.errors import UserError
from mnist_explore.hooks import RecorderHistory
from mnist_explore.models import init_model
from mnist_explore.preprocess import centre_of_mass, like_mnist


def upscaled(digit: np.ndarray, offset=(40, 90)) -> np.ndarray:
    """An MNIST digit blown up ten times and placed off-centre on a 400x400 canvas, as a learner might draw it."""
    big = np.kron(digit.astype(float), np.ones((10, 10)))
    canvas = np.zeros((400, 400))
    canvas[offset[0]:offset[0] + 280, offset[1]:offset[1] + 280] = big
    return canvas


def test_like_mnist_undoes_scaling_and_placement(mnist):
    digit = mnist.test.X[0].numpy()
    made = like_mnist(upscaled(digit))
    assert made.shape == (28, 28) and made.dtype == np.uint8
    rows, cols = np.nonzero(made > 0.05 * made.max())
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (20, 21)  # the longer side fills the 20x20 box
    assert np.allclose(centre_of_mass(made), (14, 14), atol=0.75)
    correlation = np.corrcoef(made.ravel().astype(float), digit.ravel().astype(float))[0, 1]
    assert correlation > 0.95  # MNIST's own digit comes back close to itself


def test_like_mnist_refuses_an_empty_drawing():
    with pytest.raises(UserError, match="empty"):
        like_mnist(np.zeros((280, 280)))
    with pytest.raises(UserError, match="one greyscale image"):
        like_mnist(np.zeros((2, 28, 28)))


def test_embedding_explorer_hover_and_selection(mnist):
    images, labels = mnist.test.X[:300], mnist.test.y[:300]
    points = np.random.default_rng(0).normal(size=(300, 2))
    predicted = labels[200:].clone()
    predicted[:5] = (predicted[:5] + 1) % 10
    e = explore.embedding_explorer(points, images, labels, n_train=200, predicted=predicted)
    e.show_point(203)
    assert f"label <b>{int(labels[203])}</b>" in e.hover_text.value and "(wrong)" in e.hover_text.value
    before = e.hover_image.value
    e.show_point(7)
    assert "training digit" in e.hover_text.value and e.hover_image.value != before
    e.show_selection([1, 2, 3])
    assert "3 digits selected" in e.selection_text.value and e.selection_image.layout.display == ""
    e.show_selection([])
    assert "Nothing selected" in e.selection_text.value and e.selection_image.layout.display == "none"
    e.colour_by("misclassified")
    assert list(e.frame["misclassified"].value_counts()[["wrong"]]) == [5]
    with pytest.raises(UserError, match="cannot colour by"):
        e.colour_by("loss")
    with pytest.raises(UserError, match="one 2-D point"):
        explore.embedding_explorer(points[:10], images, labels, n_train=200)


@pytest.fixture(scope="module")
def trained(mnist):
    """fast_cnn after a few hundred steps: good enough to read a clean digit."""
    from mnist_explore.data import Split
    from mnist_explore.train import TrainConfig, fit

    config = TrainConfig(model="fast_cnn", epochs=1, batch_size=128, lr=3e-3, progress=False, seed=0)
    result = fit(config, Split(mnist.train.X[:8000], mnist.train.y[:8000]), Split(mnist.test.X[:500], mnist.test.y[:500]))
    return result.model


def test_draw_digit_reads_a_stroke_and_reports_an_empty_canvas(trained, mnist):
    d = explore.draw_digit(trained, mnist.train.X[:2000])
    d.update()
    assert "empty" in d.message.value and d.pictures.layout.display == "none"
    # a vertical stroke, drawn as the canvas's mouse events would: a one
    d._down(140, 40)
    for y in range(50, 250, 10):
        d._move(141, y)
    d._up(141, 240)
    assert "The model reads <b>1</b>" in d.message.value
    assert d.probabilities.value.count('class="mnist-prob"') == 10 and d.pictures.layout.display == ""
    digit = mnist.test.X[0].numpy()
    probs = d.show(like_mnist(upscaled(digit)))
    assert probs.argmax() == int(mnist.test.y[0]) and abs(probs.sum() - 1) < 1e-5
    d.clear()
    assert d.strokes == [] and "Draw a digit" in d.message.value


def test_draw_digit_preprocessing_matches_the_training_distribution(trained, mnist):
    """A test digit drawn large in a corner is read as the same digit once made MNIST-style."""
    d = explore.draw_digit(trained, mnist.train.X[:2000])
    right = sum(d.show(like_mnist(upscaled(mnist.test.X[i].numpy(), (110, 10)))).argmax() == int(mnist.test.y[i])
                for i in range(20))
    assert right >= 17


def history(frames=5, layers=("conv1", "fc1"), bins=8) -> RecorderHistory:
    rng = np.random.default_rng(0)
    hists = {k: rng.integers(0, 50, size=(frames, len(layers), bins)).astype(float) for k in ("weights", "grads")}
    return RecorderHistory(steps=np.arange(frames) * 10, layers=list(layers),
                           edges={k: np.tile(np.linspace(-1, 1, bins + 1), (len(layers), 1)) for k in hists},
                           hists=hists, stats={"kurtosis": rng.normal(size=(frames, len(layers))),
                                               "update_ratio": rng.random((frames, len(layers)))})


def test_scrubber_moves_through_frames_on_fixed_axes():
    h = history()
    s = explore.training_scrubber(h)
    first = s.image.value
    s.frame.value = 3
    assert s.image.value != first and "step 30" in s.stats.value and "excess kurtosis" in s.stats.value
    s.layer_choice.value = "fc1"
    s.kind_choice.value = "grads"
    assert "step 30" in s.stats.value
    h.hists["weights"][4] = 0  # a frame that was never filled
    s.kind_choice.value = "weights"
    s.frame.value = 4
    assert "holds no weights histogram" in s.stats.value
    with pytest.raises(UserError, match="no layer"):
        explore.training_scrubber(h, layer="fc9")


def test_confusion_explorer_shows_a_cells_digits(mnist):
    y = mnist.test.y[:200]
    probs = torch.nn.functional.one_hot(y, 10).float() * 0.9 + 0.01
    probs[:3] = torch.nn.functional.one_hot((y[:3] + 1) % 10, 10).float()
    e = explore.confusion_explorer(mnist.test.X[:200], y, probs)
    a, b = int(y[0]), (int(y[0]) + 1) % 10
    assert e.counts.sum() == 200 and e.counts[a, b] >= 1
    shown = e.show_cell(a, b)
    assert 0 in shown and f"of class {a} read as {b}" in e.caption.value and e.image.layout.display == ""
    empty = next((i, j) for i in range(10) for j in range(10) if e.counts[i, j] == 0)
    assert len(e.show_cell(*empty)) == 0 and "No test digit" in e.caption.value
    with pytest.raises(UserError, match="classes are 0 to 9"):
        e.show_cell(10, 0)


def test_explorers_print_a_note_when_nothing_can_render_them(monkeypatch, capsys, mnist):
    from mnist_explore.explore._common import NOTE

    monkeypatch.setenv("MNIST_EXPLORE_INTERACTIVE", "0")
    explore.training_scrubber(history())._ipython_display_()
    assert capsys.readouterr().out.strip() == NOTE


def test_loss_surface_paths_and_the_knob_that_draws_them():
    from mnist_explore import surfaces

    for name in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        path = surfaces.trajectory("ravine", name, surfaces.RAVINE_LR[name], 100)
        assert path.shape == (101, 2) and not surfaces.diverged(path, 100)
        assert surfaces.final_loss("ravine", path) < surfaces.final_loss("ravine", path[:1]) / 10
    blown = surfaces.trajectory("rosenbrock", "sgd", 0.1, 100)
    assert surfaces.diverged(blown, 100) and np.isfinite(blown).all()
    with pytest.raises(UserError, match="Unknown surface"):
        surfaces.trajectory("bowl", "sgd", 0.1)
    knob = explore.loss_surface_explorer("sgd")
    assert not knob.drawn  # nothing is computed until the widget is shown
    knob.redraw()
    first = knob.image.value
    knob.controls["optimizer"].value = "adam"
    assert knob.image.value != first
    knob.controls["surface"].value = "rosenbrock"
    knob.controls["optimizer"].value = "sgd"
    knob.controls["lr"].value = 0.1
    assert "diverged" in knob.message.value and knob.image.layout.display == "none"
    knob.controls["lr"].value = 1e-3
    assert knob.image.layout.display == "" and "diverged" not in knob.message.value


def test_hidden_layer_and_perplexity_knobs(trained, mnist):
    knob = explore.hidden_layer_explorer(trained, mnist.test.X, mnist.test.y)
    knob.redraw()
    first = knob.image.value
    knob.controls["digit"].value = 3
    second = knob.image.value
    knob.controls["layer"].value = knob.controls["layer"].options[-1]
    assert len({first, second, knob.image.value}) == 3

    from mnist_explore import embed
    X = torch.cat([mnist.train.X[:300], mnist.test.X[:100]]).flatten(1).float() / 255
    y = torch.cat([mnist.train.y[:300], mnist.test.y[:100]])
    z = embed.pca(X).transform(X, 20)
    knob = explore.tsne_perplexity_explorer(z, y, n_train=300, perplexities=(5, 30, 200), backend="opentsne")
    knob.redraw()
    assert knob.image.layout.display == "" and knob.image.value
    knob.controls["perplexity"].value = 200
    assert "needs more than 600 points" in knob.message.value
