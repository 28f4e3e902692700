"""Figure recipes, one module per notebook; importing this package registers them all."""
from . import data, search  # noqa: F401  (imported to register their recipes)
