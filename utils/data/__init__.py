"""Images for the course: the offline corpus, DICOM, splits by source, patch and pair sets, real datasets.

See :mod:`utils.data.corpus` (the images and their splits), :mod:`utils.data.dicom` (reading and
de-identifying DICOM), :mod:`utils.data.sources` (source images of a split, corpus or real data),
:mod:`utils.data.patches` (training patches and the evaluation sets), :mod:`utils.data.content` (the rule
that tells a patch of tissue from one of background) and :mod:`utils.data.datasets`
(loaders of the real datasets of ``data/README.md``).
"""

from .corpus import MODALITIES, SAMPLES, SPLITS, load_sample, sample_names, sample_path, sample_table
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
from .patches import (
    EVAL_SEED,
    ImageSet,
    PairSet,
    PatchSampler,
    image_set,
    pair_set,
    patch_set,
    split_names,
    square_image,
    to_channels,
)
from .sources import Source, corpus_source, dataset_sources, frames_of, sources

__all__ = [
    "MODALITIES", "SAMPLES", "load_sample", "sample_names", "sample_path", "sample_table",
    "DATASETS", "DatasetNotFoundError", "dataset_files", "dataset_names", "dataset_root", "dataset_status",
    "images_or_samples", "iter_dataset", "load_dicom_series", "load_nifti",
    "SPLITS", "EVAL_SEED", "PatchSampler", "PairSet", "pair_set", "ImageSet", "image_set", "patch_set", "split_names", "square_image",
    "to_channels", "Source", "corpus_source", "dataset_sources", "frames_of", "sources",
]
