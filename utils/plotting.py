"""Figures for the notebooks: image grids, frame strips, and GIF animations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["notebook_style", "show_grid", "stego_grid", "to_uint8", "save_gif", "labelled_frames", "draw_floors",
           "mean_oracle_psnr"]


def notebook_style(dpi: int = 72, fmt: str = "jpeg") -> None:
    """Figure settings for the notebooks: modest resolution and JPEG figures, so stored notebooks stay small.

    Call once after importing matplotlib in a notebook; outside IPython only the resolution is set.
    """
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi})
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats(fmt)
    except (ImportError, NameError, AttributeError):
        pass


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] (values outside are clipped) to uint8, rounding to nearest."""
    return (np.clip(np.asarray(image, dtype=np.float64), 0, 1) * 255.0 + 0.5).astype(np.uint8)


def show_grid(images, titles=None, ncols: int | None = None, size: float = 2.4, cmap: str = "gray",
              suptitle: str | None = None):
    """Show images (float in [0, 1], grey or RGB) in a grid; returns the matplotlib Figure.

    Grey images are shown with ``cmap`` on a fixed [0, 1] scale, so brightness is comparable across panels.
    """
    import matplotlib.pyplot as plt

    images = list(images)
    n = len(images)
    ncols = ncols or min(n, 6)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        image = np.asarray(images[i])
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def stego_grid(secret, cover, prep, container, revealed, indices, amplify: float = 10.0, suptitle: str | None = None,
               row_labels=None):
    """The seed's figure, one row per pair: secret, cover, prep output, container, revealed, residual.

    All arrays are float batches (N, H, W, C) in [0, 1] (prep may be any range: it is rescaled per image;
    ``prep=None`` for hiders without a prep network leaves that column out). The residual
    ``|container - cover|`` is multiplied by ``amplify``; the revealed panel's title gives its PSNR against
    the secret; ``row_labels`` (one per index) go in front of each row's secret title.
    """
    from .metrics import psnr

    images, titles = [], []
    for row, i in enumerate(indices):
        residual = np.clip(np.abs(container[i] - cover[i]) * amplify, 0, 1)
        quality = psnr(np.asarray(secret[i], np.float64), np.asarray(revealed[i], np.float64), data_range=1.0)
        label = f"{row_labels[row]}: secret" if row_labels is not None else "secret"
        images += [secret[i], cover[i]]
        titles += [label, "cover"]
        if prep is not None:
            p = np.asarray(prep[i], dtype=np.float64)
            images.append((p - p.min()) / max(p.max() - p.min(), 1e-6))
            titles.append("prep (rescaled)")
        images += [container[i], revealed[i], residual]
        titles += ["container", f"revealed {quality:.1f} dB", f"|c'-c| x{amplify:g}"]
    return show_grid(images, titles, ncols=6 if prep is not None else 5, size=1.8, suptitle=suptitle)


def labelled_frames(frames, column_labels, frame_labels, scale: int = 3) -> np.ndarray:
    """Frames (F, H, W, 3) in [0, 1] made of equal-width panels side by side, enlarged ``scale`` times
    (nearest neighbour, so pixels stay sharp), with a header row naming each panel and a caption per frame
    (e.g. "step 300: secret 24.1 dB"). Returns float frames ready for :func:`save_gif`."""
    from PIL import Image, ImageDraw

    frames = np.asarray(frames, dtype=np.float64)
    n, h, w = frames.shape[:3]
    panels = len(column_labels)
    out = []
    for frame, caption in zip(frames, frame_labels):
        big = np.kron(to_uint8(frame), np.ones((scale, scale, 1), np.uint8))
        canvas = Image.new("RGB", (w * scale, h * scale + 30), (255, 255, 255))
        canvas.paste(Image.fromarray(big), (0, 16))
        draw = ImageDraw.Draw(canvas)
        for k, label in enumerate(column_labels):
            draw.text((k * w * scale // panels + 3, 2), str(label), fill=(0, 0, 0))
        draw.text((3, h * scale + 17), str(caption), fill=(0, 0, 0))
        out.append(np.asarray(canvas, dtype=np.float64) / 255.0)
    return np.stack(out)


def save_gif(frames, path, fps: float = 10.0, max_side: int | None = 256) -> Path:
    """Write frames (float [0, 1], (F, H, W) or (F, H, W, 3)) as a looping GIF with imageio.

    Frames are downscaled so the longer side is at most ``max_side`` (keeps notebooks and repos lean).
    The folder is created if needed; returns the path written.
    """
    import imageio.v3 as iio

    frames = np.asarray(frames)
    if frames.ndim not in (3, 4):
        raise ValueError(f"frames must be (F, H, W) or (F, H, W, 3), got shape {frames.shape}")
    if max_side is not None and max(frames.shape[1:3]) > max_side:
        from skimage.transform import resize

        scale = max_side / max(frames.shape[1:3])
        shape = (round(frames.shape[1] * scale), round(frames.shape[2] * scale)) + frames.shape[3:]
        frames = np.stack([resize(f, shape, anti_aliasing=True) for f in frames])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, to_uint8(frames), extension=".gif", duration=1000.0 / fps, loop=0)
    return path


def mean_oracle_psnr(images8) -> float:
    """Mean PSNR (dB) of the :data:`~utils.metrics.MEAN_ORACLE` guess on 8-bit images (N, ...): each image
    against its own mean grey level, rounded to 8 bits, each PSNR capped at 100 dB as everywhere in the course
    (a flat image is guessed exactly). The number an attack figure draws as that floor."""
    from .metrics import mean_oracle_guess, psnr

    images8 = np.asarray(images8)
    if images8.dtype != np.uint8 or images8.ndim not in (3, 4):
        raise ValueError(f"images8 must be a batch of 8-bit images (N, H, W[, C]) as uint8, got {images8.dtype} "
                         f"{images8.shape}")
    guess = np.round(mean_oracle_guess(images8)).astype(np.uint8)
    return float(np.mean([min(psnr(a, b, 255.0), 100.0) for a, b in zip(images8, guess)]))


def draw_floors(ax, blind=None, oracle=None) -> None:
    """Mark the two floors of an attack figure as labelled horizontal lines: the
    :data:`~utils.metrics.BLIND_CONSTANT` (what an attacker with no pairs gets, k = 0) and the
    :data:`~utils.metrics.MEAN_ORACLE` (an oracle: each image's own mean). Each value is a number, an
    Interval or a dict with ``"mean"``; None leaves its line out."""
    from .metrics import BLIND_CONSTANT, MEAN_ORACLE, mean_of

    if blind is not None:
        ax.axhline(mean_of(blind), color="0.35", ls=":", lw=1.2, label=BLIND_CONSTANT)
    if oracle is not None:
        ax.axhline(mean_of(oracle), color="0.35", ls="-.", lw=1.2, label=MEAN_ORACLE)

