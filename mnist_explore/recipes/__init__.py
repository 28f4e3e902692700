"""Figure recipes, one module per notebook; importing this package registers them all, in notebook order."""
from . import data, embeddings, search, compare, weights, gradients, hidden, gan, transfer, scratch, best  # noqa: F401,I001  (imported to register them)
