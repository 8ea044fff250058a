"""app.py: the server's exposure (host, --auth, the warning) and its storage options."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# app.py, the launcher (``import app`` would give the package app/, the UI)
_SPEC = importlib.util.spec_from_file_location("cadenza_launcher", Path(__file__).resolve().parents[1] / "app.py")
app_module = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(app_module)


def test_listening_beyond_this_machine_without_a_password_warns():
    assert app_module.exposure_warning("127.0.0.1", None) is None
    assert app_module.exposure_warning("0.0.0.0", ("me", "secret")) is None
    warning = app_module.exposure_warning("0.0.0.0", None)
    assert warning and "0.0.0.0" in warning and "--auth" in warning


def test_auth_is_user_colon_password():
    assert app_module.parse_auth("me:se:cret") == ("me", "se:cret")
    assert app_module.parse_auth(None) is None
    for bad in ("me", ":pw", "me:"):
        with pytest.raises(ValueError, match="user:password"):
            app_module.parse_auth(bad)


def test_defaults_are_local_opus_and_500_mb(monkeypatch):
    monkeypatch.delenv("CADENZA_MAX_STORAGE_MB", raising=False)
    args = app_module.build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.auth is None
    assert args.player_audio == "opus" and args.max_storage_mb == 500 and args.max_file_age == 3600
    monkeypatch.setenv("CADENZA_MAX_STORAGE_MB", "50")
    assert app_module.build_parser().parse_args([]).max_storage_mb == 50


def test_bad_options_stop_with_a_message(capsys):
    for argv in (["--auth", "nopassword"], ["--max-storage-mb", "0"], ["--player-audio", "flac"]):
        with pytest.raises(SystemExit):
            app_module.main(argv)
    err = capsys.readouterr().err
    assert "user:password" in err and "--max-storage-mb" in err and "flac" in err


def test_an_auth_file_names_several_users(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# the class\nann:pw-1\n\nben:pw:2\n")
    assert app_module.read_auth_file(users) == [("ann", "pw-1"), ("ben", "pw:2")]
    for text, fragment in (("ann\n", "line 1"), ("ann:x\nann:y\n", "given twice"), ("# nobody\n", "names no user")):
        users.write_text(text)
        with pytest.raises(ValueError, match=fragment):
            app_module.read_auth_file(users)
    with pytest.raises(ValueError, match="cannot read"):
        app_module.read_auth_file(tmp_path / "missing.txt")


def test_the_library_options(monkeypatch, tmp_path):
    from app.library import default_data_dir

    args = app_module.build_parser().parse_args([])
    assert args.data_dir is None and args.library_mb == 1000 and args.auth_file is None
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "cadenza"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(default_data_dir()).endswith(".local/share/cadenza")


def test_a_library_inside_the_swept_cache_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    with pytest.raises(SystemExit):
        app_module.main(["--checkpoint", "debug", "--no-warmup", "--data-dir", str(tmp_path / "gradio" / "lib")])
    assert "inside the cache folder" in capsys.readouterr().err
