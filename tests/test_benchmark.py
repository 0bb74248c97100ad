"""python -m utils.benchmark: every method measured, tables and figures written, bad requests refused."""

import csv
import json

import pytest

from utils import benchmark


def test_quick_benchmark_writes_its_tables_and_figures(tmp_path):
    out = tmp_path / "bench"
    assert benchmark.main(["--quick", "--n", "8", "--methods", "aes_gcm", "lsb_332", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["method"] for r in rows] == ["aes_gcm", "lsb_332"]
    report = json.loads((out / "results.json").read_text())
    aes, lsb = report["rows"]
    assert aes["recon_exact"]["mean"] == 1.0 and lsb["recon_exact"]["mean"] == 1.0  # both exact on 8-bit images
    assert aes["entropy"]["mean"] > 7.5 > lsb["entropy"]["mean"]  # a ciphertext looks random, a container does not
    assert aes["npcr"]["mean"] > 99 and lsb["npcr"]["mean"] < 1
    assert aes["wrong_key_psnr"] == "refused" and lsb["wrong_key_psnr"] == "no key: exact"
    assert lsb["attack_best_psnr"]["mean"] == 100.0  # knowing the method is reading the secret
    assert aes["throughput_vs_aes"] == 1.0 and aes["memory_kB"] > 4.096  # 64x64 bytes plus header, nonce, tag
    assert report["meta"]["n"] == 8 and "test" in report["meta"]["test"]
    table = (out / "results.md").read_text()
    assert "| aes_gcm | classic | exact" in table and "Wu et al." in table
    assert (out / "reconstruction_vs_attack.png").stat().st_size > 1000 and (out / "throughput.png").exists()


def test_unknown_methods_and_missing_datasets_get_clear_errors(tmp_path, capsys, monkeypatch):
    assert benchmark.main(["--methods", "rot13", "--out", str(tmp_path / "a")]) == 2
    assert "unknown method(s) ['rot13']" in capsys.readouterr().err
    monkeypatch.setenv("MEDSTEGO_DATA", str(tmp_path / "nothing"))
    assert benchmark.main(["--quick", "--data", "chestxray14", "--methods", "aes_gcm", "--out", str(tmp_path / "b")]) == 2
    assert "chestxray14" in capsys.readouterr().err


def test_the_benchmark_never_writes_into_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSTEGO_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="never writes there"):
        benchmark.run(tmp_path / "results", ["aes_gcm"], n=4)
