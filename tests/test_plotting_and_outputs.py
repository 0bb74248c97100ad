"""utils.plotting figures and GIFs; utils.runner.outputs stores a notebook's outputs cleanly."""

import json

import imageio.v3 as iio
import matplotlib
import nbformat
import numpy as np
import pytest

from utils import metrics
from utils.plotting import draw_floors, mean_oracle_psnr, save_gif, show_grid, stego_grid, to_uint8
from utils.runner import outputs, series

matplotlib.use("Agg")


def test_to_uint8_rounds_and_clips():
    np.testing.assert_array_equal(to_uint8(np.array([-0.2, 0.0, 0.5, 1.0, 1.7])), [0, 0, 128, 255, 255])


def test_stego_grid_has_six_panels_per_pair_and_scores_the_reveal():
    rng = np.random.default_rng(0)
    secret, cover = rng.random((3, 8, 8, 3)), rng.random((3, 8, 8, 3))
    fig = stego_grid(secret, cover, secret * 5 - 2, cover, secret, [2, 0])
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 12 and titles[4] == "revealed inf dB" and titles[5] == "|c'-c| x10"


def test_show_grid_accepts_grey_colour_and_single_channel():
    fig = show_grid([np.zeros((4, 4)), np.ones((4, 4, 3)), np.zeros((4, 4, 1))], ["a", "b", "c"], ncols=2)
    assert [ax.get_title() for ax in fig.axes][:3] == ["a", "b", "c"]


def test_save_gif_downscales_and_loops(tmp_path):
    frames = np.random.default_rng(0).random((5, 300, 200, 3))
    path = save_gif(frames, tmp_path / "sub" / "a.gif", max_side=100)
    read = iio.imread(path, index=None)
    assert read.shape[:3] == (5, 100, 67)
    with pytest.raises(ValueError, match="frames must be"):
        save_gif(np.zeros((4, 4)), tmp_path / "b.gif")


def test_hiding_table_formats_every_method():
    q = metrics.hiding_quality(*(np.full((2, 8, 8, 3), v, np.uint8) for v in (10, 12, 100, 100)))
    assert q["secret_psnr"] == float("inf") and q["cover_mae_255"] == pytest.approx(2.0)
    text = metrics.format_hiding_table({"method A": q})
    assert "method A" in text.splitlines()[1] and "inf" in text


def test_store_outputs_executes_and_cleans(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile = "default"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(series, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(outputs, "NOTEBOOKS", tmp_path)
    outputs.store_outputs(["00"])
    stored = json.loads(path.read_text())
    assert "".join(stored["cells"][1]["outputs"][0]["text"]) == "42\n"
    assert stored["cells"][1]["execution_count"] == 2
    assert "papermill" not in stored["metadata"] and "papermill" not in stored["cells"][1]["metadata"]
    assert stored["cells"][0]["metadata"]["tags"] == ["parameters"]


def test_attack_figures_draw_both_floors_by_their_names():
    import matplotlib.pyplot as plt

    images = np.zeros((2, 4, 4), np.uint8)
    images[0, :2] = 100  # mean 50: the guess is off by 50 on every pixel
    images[1] = 7        # flat: the oracle is exact
    assert mean_oracle_psnr(images[:1]) == pytest.approx(10 * np.log10(255 ** 2 / 50 ** 2))
    assert mean_oracle_psnr(images[1:]) == 100.0  # capped, as every PSNR of the course
    with pytest.raises(ValueError, match="uint8"):
        mean_oracle_psnr(images.astype(np.float32))
    fig, ax = plt.subplots()
    draw_floors(ax, blind=metrics.Interval(12.5, 11.0, 14.0, 8), oracle={"mean": 23.5})
    lines = {line.get_label(): line.get_ydata()[0] for line in ax.get_lines()}
    assert lines == {metrics.BLIND_CONSTANT: 12.5, metrics.MEAN_ORACLE: 23.5}
    plt.close(fig)
