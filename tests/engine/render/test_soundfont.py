from pathlib import Path

import pytest

from engine.render import soundfont


def test_env_var_wins(monkeypatch, tmp_path):
    font = tmp_path / "mine.sf2"
    font.write_bytes(b"RIFF")
    monkeypatch.setenv(soundfont.ENV_VAR, str(font))
    assert soundfont.default_soundfont() == font.resolve()


def test_env_var_pointing_nowhere_raises(monkeypatch, tmp_path):
    monkeypatch.setenv(soundfont.ENV_VAR, str(tmp_path / "missing.sf2"))
    with pytest.raises(RuntimeError, match="missing.sf2"):
        soundfont.default_soundfont()


def test_assets_folder_before_system(monkeypatch, tmp_path):
    monkeypatch.delenv(soundfont.ENV_VAR, raising=False)
    (tmp_path / "b.sf2").write_bytes(b"RIFF")
    (tmp_path / "a.sf2").write_bytes(b"RIFF")
    (tmp_path / "README.md").write_text("x")
    monkeypatch.setattr(soundfont, "SOUNDFONTS_DIR", tmp_path)
    assert soundfont.default_soundfont() == tmp_path / "a.sf2"


def test_falls_back_to_system_then_pretty_midi(monkeypatch, tmp_path):
    monkeypatch.delenv(soundfont.ENV_VAR, raising=False)
    monkeypatch.setattr(soundfont, "SOUNDFONTS_DIR", tmp_path / "assets")
    system = tmp_path / "FluidR3_GM.sf2"
    system.write_bytes(b"RIFF")
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONTS", (tmp_path / "nope.sf2", system))
    assert soundfont.default_soundfont() == system
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONTS", (tmp_path / "nope.sf2",))
    bundled = soundfont.bundled_pretty_midi_soundfont()
    assert bundled is not None and bundled.name == "TimGM6mb.sf2"
    assert soundfont.default_soundfont() == bundled


def test_nothing_found_names_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv(soundfont.ENV_VAR, raising=False)
    monkeypatch.setattr(soundfont, "SOUNDFONTS_DIR", tmp_path / "absent")
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONTS", ())
    monkeypatch.setattr(soundfont, "bundled_pretty_midi_soundfont", lambda: None)
    with pytest.raises(RuntimeError, match="fluid-soundfont-gm") as err:
        soundfont.default_soundfont()
    assert soundfont.ENV_VAR in str(err.value)


def test_assets_dir_is_the_repo_folder():
    assert soundfont.SOUNDFONTS_DIR == Path(__file__).resolve().parents[3] / "assets" / "soundfonts"
