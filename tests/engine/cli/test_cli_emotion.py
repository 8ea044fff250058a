"""Command lines of the emotion model: training on a tiny ABC folder, generation, evaluation."""

import json

import pretty_midi

from engine.cli import evaluate, generate
from engine.cli.train import main as train_main

JIG = """X:{n}
T:Tune {n}
M:6/8
L:1/8
K:{key}
{body}
"""
BODIES = [
    "GAB c2d|e2d cBA|G2A B2c|d3 d3|\nedc BAG|FGA DEF|GAB AGF|G3 G3|]",
    "A,B,C D2E|F2E DCB,|A,2B, C2D|E3 E3|\nEDC B,A,G,|A,B,C E2D|C2B, A,2B,|A,3 A,3|]",
    "c'ba gfe|d2c B2A|G4 z2|cde fga|b2a g3|]",
]


def write_corpus(folder, tunes: int = 24):
    folder.mkdir()
    text = "\n".join(JIG.format(n=n, key=("G", "Am", "D")[n % 3], body=BODIES[n % 3]) for n in range(tunes))
    (folder / "tunes.abc").write_text(text)
    return folder


def test_train_abc_saves_judge_labels_and_resumes(tmp_path):
    data = write_corpus(tmp_path / "abc")
    out = tmp_path / "model"
    args = [
        "abc",
        "--data",
        str(data),
        "--out",
        str(out),
        "--debug",
        "--batch-size",
        "4",
        "--cache",
        str(tmp_path / "tunes.jsonl"),
        "--workers",
        "1",
        "--transpose",
        "-2",
        "2",
    ]
    assert train_main(args + ["--epochs", "1"]) == 0
    assert train_main(args + ["--epochs", "2", "--resume"]) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2] and log[-1]["val_bits_per_char"] > 0
    config = json.loads((out / "config.json").read_text())
    stats = config["training"]["data_stats"]
    assert config["model"] == "abc_emotion" and "judge" in config and "A:Q1" in config["vocab"]
    assert sum(stats["labels_train"].values()) == stats["train_tunes"] and stats["tunes"] == 24


def test_generate_emotion_writes_abc_midi_musicxml_and_wav(tmp_path):
    out = tmp_path / "sad.abc"
    code = generate.main(
        [
            "emotion",
            "--checkpoint",
            "debug",
            "--quadrant",
            "Q3",
            "--bars",
            "8",
            "--seed",
            "1",
            "--out",
            str(out),
            "--midi",
            str(tmp_path / "sad.mid"),
            "--wav",
            str(tmp_path / "sad.wav"),
            "--musicxml",
            str(tmp_path / "sad.musicxml"),
        ]
    )
    assert code == 0 and out.read_text().startswith("X:1")
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "sad.mid"))
    assert pm.get_tempo_changes()[1][0] < 70 and pm.key_signature_changes[0].key_number >= 12  # slow, minor
    assert (tmp_path / "sad.musicxml").read_bytes().startswith(b"<?xml") and (tmp_path / "sad.wav").stat().st_size > 44
    assert (
        generate.main(
            [
                "emotion",
                "--checkpoint",
                "debug",
                "--valence",
                "0.3",
                "--arousal",
                "-0.9",
                "--out",
                str(tmp_path / "c.abc"),
            ]
        )
        == 0
    )


def test_generate_emotion_names_bad_input(tmp_path, capsys):
    assert (
        generate.main(
            ["emotion", "--checkpoint", "debug", "--valence", "2", "--arousal", "0", "--out", str(tmp_path / "x.abc")]
        )
        == 2
    )
    assert "Valence must be between -1 and 1" in capsys.readouterr().err
    assert (
        generate.main(
            ["emotion", "--checkpoint", "debug", "--quadrant", "Q1", "--bars", "0", "--out", str(tmp_path / "x.abc")]
        )
        == 2
    )
    assert "Bars must be between 8 and 32" in capsys.readouterr().err


def test_evaluate_emotion_prints_the_figures(capsys, tmp_path):
    real = write_corpus(tmp_path / "real", tunes=8)
    args = ["emotion", "--checkpoint", "debug", "--samples", "4", "--bars", "8", "--unconstrained", "2", "--json"]
    sweep = ["--variant", "guidance=2 keep_mode_third=true", "--variant", "home_emphasis=0.5", "--sweep-samples", "4"]
    assert evaluate.main([*args, "--real", str(real), "--real-cache", str(tmp_path / "labels.jsonl"), *sweep]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["sweep"]) == ["shipped", "guidance=2 keep_mode_third=true", "home_emphasis=0.5"]
    assert report["sweep"]["guidance=2 keep_mode_third=true"]["settings"] == {"guidance": 2.0, "keep_mode_third": True}
    for figures in report["sweep"].values():
        assert 0 <= figures["mode_accuracy_first_draw"] <= 1 and set(figures["per_quadrant"]) == {
            "Q1",
            "Q2",
            "Q3",
            "Q4",
        }
    assert report["generation"] == report["sweep"]["shipped"]["settings"]
    assert report["samples"] == 4 and report["parse_success"] == 1.0 and report["template_adherence"] == 1.0
    assert 0 <= report["mode_accuracy_raw"] <= 1 and 0 <= report["arousal_separation"] <= 1
    assert 0 <= report["mode_accuracy_first_draw"] <= 1
    assert 0 <= report["parse_success_unconstrained"] <= 1
    if report["abc2midi_clean"] is not None:  # abc2midi installed: the grammar's tunes read clean
        assert report["abc2midi_clean"] == 1.0, report["abc2midi_said"]
    form = report["form"]
    assert set(form["model"]) == {"Q1", "Q2", "Q3", "Q4"}
    for figures in form["model"].values():
        assert figures["tunes"] == 1 and figures["bar_repeat_share"] == 0.0  # the grammar never repeats a bar
        assert 0 < figures["distinct_bar_share"] <= 1 and 0 <= figures["pitch_class_entropy"] <= 3.6
    assert sum(f["tunes"] for f in form["real"].values()) == 8  # the corpus's tunes, each under its label
    assert all(0 <= v <= 1 for v in form["interval_overlap"].values())


def test_evaluate_emotion_names_an_unknown_sampling_setting(capsys):
    args = ["emotion", "--checkpoint", "debug", "--samples", "4", "--bars", "8", "--unconstrained", "0"]
    assert evaluate.main([*args, "--variant", "guidence=2"]) == 2
    assert "unknown sampling setting 'guidence'" in capsys.readouterr().err
    assert evaluate.main([*args, "--variant", "keep_mode_third=maybe"]) == 2
    assert "keep_mode_third takes a bool" in capsys.readouterr().err


def test_model_card_of_the_abc_model(tmp_path):
    from engine.cli.card import main as card_main

    data = write_corpus(tmp_path / "abc")
    out = tmp_path / "model"
    train_main(
        [
            "abc",
            "--data",
            str(data),
            "--out",
            str(out),
            "--debug",
            "--batch-size",
            "4",
            "--epochs",
            "1",
            "--cache",
            str(tmp_path / "tunes.jsonl"),
            "--workers",
            "1",
        ]
    )
    evaluation = tmp_path / "eval.json"
    quadrant = {"mode": 0.9, "quadrant": 0.8, "pitch_sd": 4.1}
    sweep = {
        "shipped": {"mode_accuracy_first_draw": 0.9, "per_quadrant": {q: quadrant for q in ("Q1", "Q2", "Q3", "Q4")}},
        "guidance=0": {"mode_accuracy_first_draw": 0.8, "per_quadrant": {"Q1": quadrant}},
    }
    figures = {
        "parse_success": 0.5,
        "abc13_reading": {"parse_success": 0.6},
        "grammar_only": {"parse_success": 0.7},
        "generation": {"guidance": 3.0},
        "sweep": sweep,
    }
    evaluation.write_text(json.dumps(figures))
    assert card_main([str(out), "--eval", str(evaluation)]) == 0
    card = (out / "README.md").read_text()
    config = json.loads((out / "config.json").read_text())
    assert "# ABC emotion model" in card and "| parse success | 0.5 | 0.6 | 0.7 |" in card
    assert "`guidance` 3.0" in card and "| `guidance=0` | 0.8 |" in card and "| shipped | 0.9 |" in card
    assert json.loads((out / "evaluation.json").read_text()) == figures  # every figure, beside the card
    assert "[`evaluation.json`](evaluation.json)" in card
    assert f"{config['training']['data_stats']['tunes']} tunes" in card and "| train |" in card


def test_generate_emotion_json_reports_the_feeling(tmp_path, capsys):
    code = generate.main(
        [
            "emotion",
            "--quadrant",
            "Q3",
            "--bars",
            "8",
            "--checkpoint",
            "debug",
            "--out",
            str(tmp_path / "t.abc"),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["emotion"]["asked"] == "Q3" and report["emotion"]["tempo_range"] == [40.0, 69.0]
    assert 40 <= report["tempo"]["file"] <= 69 and report["emotion"]["judged"] is None  # the debug model has no judge
