import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from mnist_explore.metrics import accuracy, class_report, confusion_matrix, error_count, misclassified


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
    assert accuracy(y_pred, y) == pytest.approx(skm.accuracy_score(y, y_pred))
    assert error_count(y_pred, y) == int((y != y_pred).sum()) == round((1 - accuracy(y_pred, y)) * len(y))


def test_misclassified_are_wrong_and_most_confident_first():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = torch.tensor([0, 0, 1, 0])
    assert misclassified(probs, y).tolist() == [1, 3, 2]
