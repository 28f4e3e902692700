import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from torch import nn

from mnist_explore.data import Split, to_float
from mnist_explore.metrics import accuracy, class_report, confusion_matrix, error_count, misclassified, predict


@pytest.fixture(scope="module")
def labels():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (3000,), generator=g)
    y_pred = torch.where(torch.rand(3000, generator=g) < 0.7, y, torch.randint(0, 10, (3000,), generator=g))
    y_pred[y_pred == 7] = 3  # class 7 is never predicted: precision undefined, reported as 0
    return y, y_pred


def test_confusion_matrix_matches_sklearn(labels):
    y, y_pred = labels
    np.testing.assert_array_equal(confusion_matrix(y, y_pred).numpy(), skm.confusion_matrix(y, y_pred, labels=range(10)))


def test_class_report_matches_sklearn(labels):
    y, y_pred = labels
    report = class_report(confusion_matrix(y, y_pred))
    p, r, f, s = skm.precision_recall_fscore_support(y, y_pred, labels=range(10), zero_division=0)
    np.testing.assert_allclose(report.precision.numpy(), p)
    np.testing.assert_allclose(report.recall.numpy(), r)
    np.testing.assert_allclose(report.f1.numpy(), f)
    np.testing.assert_array_equal(report.support.numpy(), s)
    macro = skm.precision_recall_fscore_support(y, y_pred, average="macro", zero_division=0)
    assert report.macro["f1"] == pytest.approx(macro[2]) and report.macro["precision"] == pytest.approx(macro[0])


def test_accuracy_and_error_count(labels):
    y, y_pred = labels
    assert accuracy(y, y_pred) == pytest.approx(skm.accuracy_score(y, y_pred))
    assert error_count(y, y_pred) == int((y != y_pred).sum()) == round((1 - accuracy(y, y_pred)) * len(y))


def test_misclassified_are_wrong_and_most_confident_first():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = torch.tensor([0, 0, 1, 0])
    assert misclassified(y, probs).tolist() == [1, 3, 2]


def test_predict_runs_every_row_in_eval_mode_and_restores_each_modules_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.Dropout(0.5), nn.Linear(32, 10))
    model(torch.rand(16, 1, 28, 28))  # batch-norm statistics that differ from the initial ones
    model[2].eval()  # mixed modes: each is put back as it was
    modes = [m.training for m in model.modules()]
    X = torch.randint(0, 256, (37, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model.eval()(to_float(X))
    model.train()
    model[2].eval()
    for batch_size in (None, 5, 100):
        torch.testing.assert_close(predict(model, X, batch_size), expected, rtol=1e-6, atol=1e-6)
        assert [m.training for m in model.modules()] == modes
    split = Split(X, torch.zeros(37, dtype=torch.long))
    torch.testing.assert_close(predict(model, split, probs=True), expected.softmax(dim=1), rtol=1e-6, atol=1e-6)
    # Anything but uint8 images goes in as it is: here, cached features.
    features = predict(model[:3], X)
    torch.testing.assert_close(predict(model[3:], features, batch_size=8), expected, rtol=1e-6, atol=1e-6)
