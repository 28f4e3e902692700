"""Figure recipes, one module per notebook; importing this package registers them all, in notebook order."""
from . import data, search, weights, gradients, scratch  # noqa: F401,I001  (imported to register their recipes)
