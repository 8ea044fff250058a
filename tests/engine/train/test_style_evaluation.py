"""python -m engine.evaluate style with tiny trained models on the synthetic style cache."""

import json

from engine import evaluate
from engine.train.__main__ import main as train_main


def test_evaluate_style_prints_every_figure(tmp_path, fake_style_cache, capsys):
    judge, musae, vae = tmp_path / "judge", tmp_path / "musae", tmp_path / "vae"
    common = ["--data", str(fake_style_cache), "--epochs", "1", "--steps-per-epoch", "30", "--debug"]
    assert train_main(["style-judge", "--out", str(judge), *common]) == 0
    assert train_main(["musae", "--out", str(musae), "--greedy-sample", "16", *common]) == 0
    assert train_main(["musae", "--baseline", "vae", "--out", str(vae), "--greedy-sample", "16", *common]) == 0
    capsys.readouterr()
    code = evaluate.main(["style", "--data", str(fake_style_cache), "--judge", str(judge), "--musae", str(musae), "--vae", str(vae),
                          "--samples", "8", "--recon-windows", "40", "--json"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("judge_accuracy_real", "recon_accuracy_musae", "recon_accuracy_vae", "sample_style_accuracy_musae",
                "sample_style_accuracy_vae", "transfer_style_accuracy", "latent_style_purity_musae", "latent_style_purity_vae"):
        assert key in result, key
    assert len(result["recon_accuracy_musae"]["per_track"]) == 4 and 0 <= result["recon_accuracy_vae"]["mean"] <= 1
    assert set(result["sample_style_accuracy_musae"]["per_style"]) == {"a", "b", "c"}
    checked = result["sample_style_accuracy_musae_checked"]
    assert set(checked["per_style"]) == {"a", "b", "c"} and checked["candidates"] > 1
    assert checked["mean"] >= result["sample_style_accuracy_musae"]["mean"] - 0.2  # different seeds, but a check cannot hurt much
    assert result["judge_accuracy_real"]["balanced"] > 0.5
