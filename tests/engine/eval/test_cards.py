"""Model cards stay readable: the evaluation JSON lies beside the card, long logs show a few rows, a history is
linked."""

import json

import torch

from engine.cli.card import main as card_main
from engine.eval.cards.common import EVALUATION_FILE, LOG_ROWS, log_rows_shown
from engine.models.ec2vae import EC2VAE, EC2VAEConfig
from engine.models.registry import save_ec2vae


def test_a_long_log_shows_its_first_last_and_evenly_spaced_rows():
    rows = [{"epoch": i + 1} for i in range(90)]
    shown, note = log_rows_shown(rows)
    assert len(shown) <= LOG_ROWS and shown[0]["epoch"] == 1 and shown[-1]["epoch"] == 90
    assert [r["epoch"] for r in shown] == sorted({r["epoch"] for r in shown})  # in order, none twice
    assert "of the 90 logged epochs" in note
    assert log_rows_shown(rows[:5]) == (rows[:5], "")


def test_the_card_keeps_the_evaluation_beside_it_and_links_the_history(tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "ec2vae"
    training = {"data": "tunes", "epoch": 40, "step": 4000, "data_stats": {"files": 12}, "transpose": [-5, 6]}
    save_ec2vae(EC2VAE(EC2VAEConfig.debug()), checkpoint, {"training": training, "validation": {"pitch_accuracy": 0.9}})
    log = [{"epoch": i + 1, "step": 100 * (i + 1), "val_pitch_accuracy": 0.5 + i / 100} for i in range(40)]
    (checkpoint / "train_log.jsonl").write_text("".join(json.dumps(row) + "\n" for row in log))
    evaluation = {
        "tunes": 93,
        "windows": 2000,
        "split": "val",
        "reconstruction": {"pitch_accuracy": 0.9537, "rhythm_accuracy": 0.9939, "onset_pitch_accuracy": 0.8803},
        "control": {"composed_windows": 300, "onset_f1": 1.0, "chord_tone_share_composed": 0.6988},
    }
    (tmp_path / "ec2vae.json").write_text(json.dumps(evaluation))
    history = tmp_path / "docs" / "history.md"
    history.parent.mkdir()
    history.write_text("Epochs 1-40 ran at one rate.\n\nThen the next phase, in detail.\n")
    assert card_main([str(checkpoint), "--eval", str(tmp_path / "ec2vae.json"), "--history", str(history)]) == 0
    card = (checkpoint / "README.md").read_text()
    assert json.loads((checkpoint / EVALUATION_FILE).read_text()) == evaluation
    assert f"[`{EVALUATION_FILE}`]({EVALUATION_FILE})" in card and '"reconstruction"' not in card  # linked, not inlined
    assert "| pitch tokens right (posterior mean, greedy, no teacher forcing) | 0.9537 |" in card
    assert "16 of the 40 logged epochs" in card and card.count("\n| ") < 40
    assert "Epochs 1-40 ran at one rate." in card and "[history.md](../docs/history.md)" in card
    assert "Then the next phase" not in card


def test_the_chord_suggesters_card_shows_the_model_the_baselines_and_the_real_chords(tmp_path):
    from engine.models.harmonizer import ChordSuggester, HarmonizerConfig
    from engine.models.registry import save_harmonizer

    checkpoint = tmp_path / "harmonizer"
    training = {"tunes": {"bach": 3, "nottingham": 9}, "train_tunes": 10, "val_tunes": 2, "epoch": 5, "epochs": 9}
    validation = {"all_exact": 0.61, "all_root": 0.7, "bach_exact": 0.4, "nottingham_exact": 0.65}
    save_harmonizer(
        ChordSuggester(HarmonizerConfig.debug()), checkpoint, {"training": training, "validation": validation}
    )
    figures = {"exact": 0.5, "root": 0.6, "ctnctr": 0.8, "pcs": 0.3, "mctd": 1.2, "chords_per_bar": 1.4}
    harmony = {
        "tunes": 2,
        "slots": 40,
        "hmm_sharpness": 4.0,
        "overall": {name: figures for name in ("model", "hmm", "inference", "real")},
        "per_source": {"bach": {"tunes": 1, "model": figures}},
    }
    accompaniment = {
        "bars": 8,
        "seed": 0,
        "chorales": {"pieces": 1, "arranged": {"judge_in_style": 0.9, "melody_kept": 1.0}, "real": {}},
        "styles": {"tunes": 2, "judge_in_style": {"Trecento": 1.0}},
    }
    (tmp_path / "arrange.json").write_text(json.dumps({"harmony": harmony, "accompaniment": accompaniment}))
    assert card_main([str(checkpoint), "--eval", str(tmp_path / "arrange.json")]) == 0
    card = (checkpoint / "README.md").read_text()
    assert "| chord suggester (this model) | 0.5 | 0.6 | 0.8 | 0.3 | 1.2 | 1.4 |" in card
    assert "| HMM baseline |" in card and "| real chords |" in card and "| bach | 3 |" in card
    assert "| arranged | 0.9 | 1.0 |" in card and "| Trecento | 1.0 |" in card


def test_the_voice_infillers_card_puts_it_beside_the_gan_and_the_real_pieces(tmp_path):
    from engine.models.registry import save_model
    from engine.models.voice_infill import VoiceInfillConfig, VoiceInfiller

    checkpoint = tmp_path / "voice_infill"
    training = {"windows": 900, "left_out_for_arrange": 40, "epoch": 3, "epochs": 4, "val_windows": {"a": 10}}
    validation = {"a_loss": 0.8, "a_accuracy": 0.77, "loss": 0.8, "accuracy": 0.77}
    model = VoiceInfiller(VoiceInfillConfig.debug())
    save_model(model, "voice_infill", checkpoint, {"styles": ["a"], "training": training, "validation": validation})
    infill = {
        "pieces": 2,
        "arranged": {"judge_in_style": 0.9, "parallels_per_100": 1.5},
        "real": {"judge_in_style": 0.8},
    }
    gan = {"pieces": 2, "arranged": {"judge_in_style": 0.7, "parallels_per_100": 6.0}, "real": {"judge_in_style": 0.8}}
    evaluation = {
        "accompaniment": {
            "bars": 8,
            "seed": 0,
            "chorales": infill,
            "styles": {"tunes": 1, "judge_in_style": {"a": 1.0}},
        },
        "gan": {"accompaniment": {"chorales": gan, "styles": {"tunes": 1, "judge_in_style": {"a": 0.5}}}},
    }
    (tmp_path / "both.json").write_text(json.dumps(evaluation))
    assert card_main([str(checkpoint), "--eval", str(tmp_path / "both.json")]) == 0
    card = (checkpoint / "README.md").read_text()
    assert "| a | 10 | 0.8 | 0.77 |" in card and "900 training windows" in card and "40 windows" in card
    assert "| as shipped (infill) | 0.9 |  |  | 1.5 |" in card and "| style GAN | 0.7 |  |  | 6.0 |" in card
    assert "| real | 0.8 |" in card and "| a | 1.0 (infill) | 0.5 |" in card
