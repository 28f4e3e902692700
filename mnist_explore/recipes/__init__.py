"""Figure recipes, one module per notebook: each draws a study's result and nothing else.

Importing this package registers them all, in notebook order.
"""
from . import (data_statistics, embeddings, model_search, optimizers, weight_distributions, gradient_flow,  # noqa: F401,I001
               hidden_layers, gan, transfer, numpy_from_scratch, best_model, label_audit)
