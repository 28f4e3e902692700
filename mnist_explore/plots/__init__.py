"""Figures: ``plot_something(data, ax=None, **kw) -> Figure``, one module per topic.

Each function draws into ``ax`` when given, and otherwise makes its own figure.
Nothing here saves a file: see ``figures.save_figure``.
"""
from ._common import DIGIT_COLORS, mosaic
from .best import (ANCHORS, plot_accuracy_vs_size, plot_disputed_labels, plot_ensemble_errors,
                   plot_hard_digits)
from .optimizers import plot_final_table, plot_lr_sensitivity, plot_optimizer_curves, plot_ranking, plot_trajectories
from .data import (plot_class_counts, plot_class_means, plot_intensity_fractions, plot_mean_intensity,
                   plot_pixel_histograms, plot_pixel_std, plot_sample_grid)
from .gan import plot_digit_rows, plot_fidelity, plot_gan_history
from .embeddings import (plot_axis_distributions, plot_components, plot_distance_distributions,
                         plot_explained_variance, plot_map, plot_maps, plot_pca_scatter, plot_per_class,
                         plot_reconstructions)
from .activations import (plot_class_maximising, plot_embedding, plot_feature_maps, plot_filters,
                          plot_saliency, plot_test_maps)
from .label_audit import plot_suspects, plot_synthetic_precision
from .hooks import plot_gradient_by_depth, plot_gradient_flow, plot_histogram_heatmaps, plot_shape_stats
from .numpy_mlp import plot_backward_cost, plot_backward_costs, plot_weight_images
from .transfer import plot_layer_change, plot_transfer_curves
from .training import (plot_augmentations, plot_confusion_matrix, plot_learning_curves, plot_misclassified,
                       plot_search_curves, plot_search_summary)

__all__ = [
    "DIGIT_COLORS", "mosaic",
    "plot_sample_grid", "plot_class_counts", "plot_class_means", "plot_pixel_histograms",
    "plot_mean_intensity", "plot_pixel_std", "plot_intensity_fractions",
    "plot_augmentations", "plot_learning_curves", "plot_confusion_matrix", "plot_misclassified",
    "plot_search_curves", "plot_search_summary",
    "plot_weight_images", "plot_backward_cost", "plot_backward_costs",
    "plot_histogram_heatmaps", "plot_shape_stats", "plot_gradient_flow", "plot_gradient_by_depth",
    "plot_explained_variance", "plot_pca_scatter", "plot_components", "plot_reconstructions", "plot_map",
    "plot_maps", "plot_per_class", "plot_axis_distributions", "plot_distance_distributions",
    "plot_optimizer_curves", "plot_lr_sensitivity", "plot_final_table", "plot_ranking", "plot_trajectories",
    "plot_gan_history", "plot_digit_rows", "plot_fidelity",
    "plot_transfer_curves", "plot_layer_change",
    "ANCHORS", "plot_accuracy_vs_size", "plot_ensemble_errors", "plot_hard_digits", "plot_disputed_labels",
    "plot_filters", "plot_feature_maps", "plot_embedding", "plot_saliency", "plot_class_maximising", "plot_test_maps",
    "plot_suspects", "plot_synthetic_precision",
]
