"""python -m utils.benchmark: every method measured, tables and figures written, bad requests refused."""

import csv
import json

import pytest

from utils import benchmark


@pytest.mark.slow  # over 10 s: left out of the quick lane (make quick)
def test_quick_benchmark_writes_its_tables_and_figures(tmp_path):
    out = tmp_path / "bench"
    assert benchmark.main(["--quick", "--n", "8", "--methods", "aes_gcm", "lsb_332", "--inversion-steps", "3",
                           "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["method"] for r in rows] == ["aes_gcm", "lsb_332"]
    report = json.loads((out / "results.json").read_text())
    aes, lsb = report["rows"]
    assert aes["recon_exact"]["mean"] == 1.0 and lsb["recon_exact"]["mean"] == 1.0  # both exact on 8-bit images
    assert aes["entropy"]["mean"] > 7.5 > lsb["entropy"]["mean"]  # a ciphertext looks random, a container does not
    assert aes["npcr"]["mean"] > 99 and lsb["npcr"]["mean"] < 1
    assert aes["wrong_key_psnr"] == "refused" and lsb["wrong_key_psnr"] == "no key: exact"
    assert lsb["attack_best_psnr"]["mean"] >= 100.0 and lsb["attack_best"] == "dedicated"  # knowing the method is reading the secret
    assert aes["memory_kB"] > 4.096  # 64x64 bytes plus header, nonce, tag
    timing = report["meta"]["timing"]
    assert set(timing) == {"aes_gcm", "lsb_332", "aes_gcm_library_call"}
    for entry in timing.values():  # interleaved rounds: a median inside its range
        ratio = entry["ratio_to_aes"]
        assert entry["rounds"] == 2 and ratio["low"] <= ratio["median"] <= ratio["high"] and entry["seconds_per_image"] > 0
    assert lsb["throughput_vs_aes"] == timing["lsb_332"]["ratio_to_aes"]["median"]
    # the games: AES-GCM's fresh nonce wins the equality game for it, LSB (deterministic) loses it outright
    assert aes["game_lor_advantage"]["mean"] == 0.0 and lsb["game_lor_advantage"]["mean"] == 1.0
    assert -1.0 <= lsb["game_ror_advantage"]["low"] <= lsb["game_ror_advantage"]["high"] <= 1.0
    assert aes["key_bits"] == 256 and lsb["key_bits"] == 0 and "Kerckhoffs" in lsb["threat_note"]
    assert lsb["blind_constant_psnr"]["mean"] < lsb["mean_oracle_psnr"]["mean"]  # the oracle sees each image
    assert aes["aes_png_kB"] > aes["plain_png_kB"] and aes["aes_png_kB"] - aes["plain_png_kB"] < 0.05
    assert report["meta"]["n"] == 8 and "test" in report["meta"]["test"] and report["meta"]["inversion_steps"] == 3
    assert report["meta"]["command"].endswith("--inversion-steps 3 --out bench") and str(tmp_path) not in json.dumps(report)
    assert "code_commit" in report["meta"]  # the code that made the numbers (None outside a git checkout)
    table = (out / "results.md").read_text()
    assert "| aes_gcm | classic | exact" in table and "Wu et al." in table and "## Threat models" in table
    assert table.index("Security by its definition") < table.index("Reconstruction")
    assert (out / "reconstruction_vs_attack.png").stat().st_size > 1000 and (out / "throughput.png").exists()
    # --timing-only times the finished run again and keeps every other number
    before = (out / "results.json").read_text()
    assert benchmark.main(["--timing-only", "--timing-rounds", "1", "--out", str(out)]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["meta"]["timing_rounds"] == 1 and again["rows"][1]["game_lor_advantage"] == lsb["game_lor_advantage"]
    assert again["rows"][1]["recon_psnr"] == lsb["recon_psnr"] and (out / "results.json").read_text() != before


def test_unknown_methods_and_missing_datasets_get_clear_errors(tmp_path, capsys, monkeypatch):
    assert benchmark.main(["--timing-only", "--out", str(tmp_path / "none")]) == 2
    assert "re-times a finished run" in capsys.readouterr().err
    assert benchmark.main(["--methods", "rot13", "--out", str(tmp_path / "a")]) == 2
    assert "unknown method(s) ['rot13']" in capsys.readouterr().err
    monkeypatch.setenv("MEDSTEGO_DATA", str(tmp_path / "nothing"))
    assert benchmark.main(["--quick", "--data", "chestxray14", "--methods", "aes_gcm", "--out", str(tmp_path / "b")]) == 2
    assert "chestxray14" in capsys.readouterr().err


def test_the_benchmark_never_writes_into_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSTEGO_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="never writes there"):
        benchmark.run(tmp_path / "results", ["aes_gcm"], n=4)


def test_hider_attackers_use_covers_disjoint_from_the_test_covers():
    hider = benchmark.HiderMethod("lsb_332", None, 64)
    oracle = hider.attacker_oracle()
    assert oracle.split == "train" and hider.split == "test"
    test_covers, own_covers = hider.covers(16), oracle.covers(16)
    flat = {c.tobytes() for c in test_covers}
    assert not flat & {c.tobytes() for c in own_covers}


def test_shipped_results_show_no_machine_folders():
    """The stored run is shown in notebook 09: its command and notes must read the same on every machine."""
    import re
    from pathlib import Path
    shipped = Path(benchmark.__file__).parents[1] / "results"  # utils/results
    texts = [p for p in shipped.rglob("*") if p.suffix in (".md", ".json", ".csv")]
    assert texts
    for path in texts:
        assert not re.search(r"/(root|tmp|home|work|Users)/", path.read_text()), path


def test_method_groups_expand_to_the_ciphers_and_to_everything():
    every, only = benchmark.method_names("all"), benchmark.method_names("ciphers")
    assert only[-1] == benchmark.CONTROL and "aes_gcm" in only and not any(n.startswith(("stego", "lsb")) for n in only)
    assert every[: len(only)] == only and "lsb_332" in every and benchmark.method_names(None) == every
    assert benchmark.method_names(["ciphers", "aes_gcm", "lsb_332"]) == only + ["lsb_332"]
    assert list(benchmark.methods(["aes_gcm", "lsb_332"])) == ["aes_gcm", "lsb_332"]


def test_portable_command_names_folders_as_typed_in_the_repository(tmp_path, monkeypatch):
    from utils.runtime import portable_command
    monkeypatch.chdir(tmp_path)
    inside, outside = tmp_path / "runs" / "a", tmp_path.parent / "elsewhere"
    assert portable_command("python -m x", ["--out", str(inside), "--n", 8]) == "python -m x --out runs/a --n 8"
    assert portable_command("python -m x", ["--out", str(outside)]) == "python -m x --out elsewhere"


def test_an_interrupted_run_resumes_with_the_rows_it_finished(tmp_path, monkeypatch):
    out, real_measure, measured = tmp_path / "bench", benchmark.measure, []

    def measure_until_lsb(name, *args, **kwargs):  # the run dies during its second method
        if name == "lsb_332" and measured == ["aes_gcm"]:
            measured.append("killed")
            raise KeyboardInterrupt
        measured.append(name)
        return real_measure(name, *args, **kwargs)

    from utils.benchmark import resumable

    monkeypatch.setattr(resumable, "measure", measure_until_lsb)  # where run() looks it up
    settings = dict(n=4, attack_k=2, attack_steps=2, game_n=8, game_steps=2, timing_rounds=1, progress=False)
    with pytest.raises(KeyboardInterrupt):
        benchmark.run(out, ["aes_gcm", "lsb_332"], **settings)
    partial = json.loads((out / benchmark.PARTIAL).read_text())
    assert [r["method"] for r in partial["rows"]] == ["aes_gcm"] and not (out / "results.json").exists()
    # other settings would mix unlike rows in one table: refused, naming the file, the setting and the way out
    with pytest.raises(ValueError, match=r"rows.partial.json .*attack_steps: 2 there, 3 now.*delete the file"):
        benchmark.run(out, ["aes_gcm", "lsb_332"], **{**settings, "attack_steps": 3})
    rows = benchmark.run(out, ["aes_gcm", "lsb_332"], **settings)
    assert measured == ["aes_gcm", "killed", "lsb_332"]  # AES-GCM's row was kept, not measured again
    assert [r["method"] for r in rows] == ["aes_gcm", "lsb_332"] and rows[0] == {**partial["rows"][0], **{
        k: rows[0][k] for k in ("seconds_per_image", "throughput_vs_aes", "throughput_vs_aes_range")}}
    assert (out / "results.json").exists() and not (out / benchmark.PARTIAL).exists()


def test_extend_measures_only_the_methods_a_finished_run_lacks_and_names_their_commits(tmp_path, monkeypatch):
    from utils.benchmark import resumable

    out, real_measure, measured = tmp_path / "bench", benchmark.measure, []

    def counting(name, *args, **kwargs):
        measured.append(name)
        return real_measure(name, *args, **kwargs)

    monkeypatch.setattr(resumable, "measure", counting)
    settings = dict(n=4, attack_k=2, attack_steps=2, game_n=8, game_steps=2, timing_rounds=1, progress=False)
    with pytest.raises(FileNotFoundError, match=r"results.json not found: --extend adds methods"):
        benchmark.run(out, ["aes_gcm"], extend=True, **settings)
    benchmark.run(out, ["aes_gcm"], **settings)
    stored = json.loads((out / "results.json").read_text())
    # a run stored before rows carried their commit and before meta carried the seed: both read as the run's
    del stored["rows"][0]["code_commit"], stored["meta"]["seed"]
    stored["meta"]["code_commit"] = "0" * 40
    (out / "results.json").write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"results.json was measured with other settings \(attack_steps: 2 there"):
        benchmark.run(out, ["aes_gcm", "lsb_332"], extend=True, **{**settings, "attack_steps": 3})
    rows = benchmark.run(out, ["aes_gcm", "lsb_332"], extend=True, **settings)
    assert measured == ["aes_gcm", "lsb_332"]  # the first run's AES-GCM row was kept
    assert [r["method"] for r in rows] == ["aes_gcm", "lsb_332"] and rows[0]["code_commit"] == "0" * 40
    assert all(r.get("seconds_per_image") for r in rows)  # every method timed again, interleaved
    text = (out / "results.md").read_text()
    assert "Rows aes_gcm: measured at commit 0000000 by an earlier run" in text and "lsb_332: measured" not in text
    assert benchmark.commits_note(rows, {"code_commit": "0" * 40}).startswith(" Rows lsb_332: measured at commit")
