"""Every study: one shared profile mechanism, one run signature, and no change to the caller's global RNGs."""
from __future__ import annotations

import importlib
import inspect
import random

import numpy as np
import pytest
import torch

from mnist_explore.errors import UserError
from mnist_explore.studies import STUDIES
from mnist_explore.studies.profiles import PROFILE_NAMES, StudySettings

# The quick profile, shrunk further so that every study runs in seconds here.
TINY = {
    "data_statistics": {},
    "embeddings": dict(points=(300, 100)),
    "model_search": dict(models=("linear", "mlp"), augments=(None,), seeds=(0,), train_size=256, val_size=200,
                         test_size=200),
    "optimizer_comparison": dict(optimizers=("sgd", "adam"), lrs=(1e-3, 1e-2), seeds=(0, 1), train_size=128,
                                 val_size=100),
    "weight_distributions": dict(train_size=512),
    "gradient_flow": dict(train_size=256, depth=3),
    "hidden_layers": dict(train_size=256, ascent_steps=2, embed_points=200),
    "gan": dict(train_size=256, width=8, samples=100, classifier_train_size=500),
    "transfer": dict(budgets=(1,), steps=2, source_train_size=300, test_size=100, include_fashion=False),
    "numpy_from_scratch": dict(train_size=300, seeds=(0,), cost_batch_sizes=(1,)),
    "best_model": dict(seeds=(0, 1), train_size=256, val_size=200, test_size=200),
    "label_audit": dict(folds=2, train_size=200, test_size=100, noise_train_size=200, val_size=40),
}


def _modules():
    return [importlib.import_module(f"mnist_explore.studies.{name}") for name in STUDIES]


def test_every_study_is_listed_and_has_tiny_settings():
    assert set(TINY) == set(STUDIES)


@pytest.mark.parametrize("module", _modules(), ids=STUDIES)
def test_one_profile_mechanism_and_one_run_signature(module):
    assert issubclass(module.Settings, StudySettings)
    for name in PROFILE_NAMES:
        assert isinstance(module.Settings.profile(name), module.Settings)
    assert set(module.Settings.PROFILES) <= set(PROFILE_NAMES)
    params = inspect.signature(module.run).parameters
    assert list(params)[:2] == ["settings", "data"]
    assert {"device", "seed", "progress"} <= {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
    with pytest.raises(UserError, match="Unknown profile 'huge'"):
        module.Settings.profile("huge")
    with pytest.raises(UserError, match="has no setting 'no_such_setting'"):
        module.Settings.profile("quick", no_such_setting=1)


def _global_states():
    return (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone())


@pytest.mark.parametrize("module", _modules(), ids=STUDIES)
def test_run_leaves_the_global_generators_alone(module, mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path))
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    before = _global_states()
    settings = module.Settings.profile("quick", **TINY[module.__name__.rsplit(".", 1)[-1]])
    result = module.run(settings, mnist, device="cpu", seed=1, progress=False)
    assert result is not None
    if module.__name__.endswith("best_model"):  # the seed a user passes decides every member's seed
        assert [m.seed for m in result.selection.members] == [1 + s for s in settings.seeds]
    after = _global_states()
    assert before[0] == after[0], "Python's random state changed"
    assert np.array_equal(before[1], after[1]), "NumPy's global state changed"
    assert torch.equal(before[2], after[2]), "torch's global CPU generator changed"
