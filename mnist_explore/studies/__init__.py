"""One module per walkthrough: its ``Settings`` (sized by profile), ``run(settings, data, ...)`` and result.

Every ``run`` has the same signature, ``run(settings, data, *, device=None, seed=0, progress=True)``,
returns plain data and draws nothing; the notebooks and the figure recipes call the same ones.
"""
# In notebook order; tests import each to check that it leaves global RNGs alone.
STUDIES = ("data_statistics", "embeddings", "model_search", "optimizer_comparison", "weight_distributions",
           "gradient_flow", "hidden_layers", "gan", "transfer", "numpy_from_scratch", "best_model", "label_audit")
