"""Images for the course: the offline sample corpus, patch sets, and loaders for the real datasets.

See :mod:`utils.data.corpus`, :mod:`utils.data.patches` and :mod:`utils.data.datasets`.
"""

from .corpus import MODALITIES, SAMPLES, load_sample, sample_names, sample_path, sample_table
from .datasets import (
    DATASETS,
    DatasetNotFoundError,
    dataset_files,
    dataset_names,
    dataset_root,
    dataset_status,
    images_or_samples,
    iter_dataset,
    load_dicom_series,
    load_nifti,
)
from .patches import HELDOUT_SEED, heldout_pairs, patch_set, split_names, square_image, to_channels

__all__ = [
    "MODALITIES", "SAMPLES", "load_sample", "sample_names", "sample_path", "sample_table",
    "DATASETS", "DatasetNotFoundError", "dataset_files", "dataset_names", "dataset_root", "dataset_status",
    "images_or_samples", "iter_dataset", "load_dicom_series", "load_nifti",
    "HELDOUT_SEED", "heldout_pairs", "patch_set", "split_names", "square_image", "to_channels",
]
