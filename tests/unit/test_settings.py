"""Configuration: config.toml + environment + .env, validated into readable problems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]
WEBSITE = """
[channels.website]
type = "wordpress"
url = "http://127.0.0.1:9/wp-json"
username = "loa"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("LOA_")]:
        monkeypatch.delenv(key)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    return exc.value.problems


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    (line,) = _problems(_config(tmp_path, '[schedule]\ndaily_cap = "hai"\n'))
    assert line.startswith("schedule.daily_cap: ") and "'hai'" in line


def test_unknown_key_is_reported(tmp_path: Path) -> None:
    (line,) = _problems(_config(tmp_path, "[schedule]\ndaily_capp = 3\n"))
    assert line == "schedule.daily_capp: unknown key (a typo?)"
    (line,) = _problems(_config(tmp_path, WEBSITE + 'usrname = "x"\n'))
    assert line.startswith("channels.website.usrname: unknown key")


def test_unknown_channel_type_names_the_known_types(tmp_path: Path) -> None:
    (line,) = _problems(_config(tmp_path, '[channels.tiktok]\ntype = "tiktok"\n'))
    assert line.startswith("channels.tiktok.type: unknown channel type 'tiktok'")
    for known in ("wordpress", "facebook_page", "zalo_oa"):
        assert known in line


def test_a_secret_in_config_toml_is_refused(tmp_path: Path) -> None:
    lines = _problems(_config(tmp_path, WEBSITE + 'app_password = "abcd efgh"\n'))
    assert any(
        "LOA_CHANNELS__WEBSITE__APP_PASSWORD" in p
        and p.startswith("channels.website.app_password: secrets must not be in config.toml")
        for p in lines
    )
    lines = _problems(_config(tmp_path, '[telegram]\ntoken = "123:abc"\n'))
    assert any("LOA_TELEGRAM__TOKEN" in p for p in lines)


def test_missing_secret_names_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, WEBSITE)
    (line,) = load_settings(path).missing_secrets()
    assert line.startswith("channels.website.app_password: secret missing")
    assert "LOA_CHANNELS__WEBSITE__APP_PASSWORD" in line
    assert load_settings(path).missing_secrets({"website": {"app_password": "stored"}}) == []
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", "abcd efgh")
    settings = load_settings(path)
    assert settings.missing_secrets() == []
    secret = settings.parsed_channels["website"].app_password  # type: ignore[attr-defined]
    assert secret.get_secret_value() == "abcd efgh" and "abcd" not in repr(settings)


def test_environment_wins_over_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, "[schedule]\ndaily_cap = 3\n" + WEBSITE)
    assert load_settings(path).schedule.daily_cap == 3
    monkeypatch.setenv("LOA_SCHEDULE__DAILY_CAP", "5")
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__USERNAME", "bien-tap")
    settings = load_settings(path)
    assert settings.schedule.daily_cap == 5
    assert settings.schedule.slots == ["08:30", "15:00"]  # the rest of the section stays
    assert settings.parsed_channels["website"].username == "bien-tap"  # type: ignore[attr-defined]


def test_dotenv_beside_the_config_is_read(tmp_path: Path) -> None:
    path = _config(tmp_path, WEBSITE)
    (tmp_path / ".env").write_text(
        "LOA_CHANNELS__WEBSITE__APP_PASSWORD=tu-dot-env\nLOA_SCHEDULE__DAILY_CAP=4\n", "utf-8"
    )
    settings = load_settings(path)
    assert settings.schedule.daily_cap == 4
    assert settings.missing_secrets() == []
    assert settings.base_dir == tmp_path


def test_after_must_name_a_configured_channel(tmp_path: Path) -> None:
    lines = _problems(
        _config(
            tmp_path, '[channels.fb]\ntype = "facebook_page"\npage_id = "1"\nafter = "website"\n'
        )
    )
    assert "channels.fb.after: 'website' is not a configured channel" in lines


def test_the_shipped_config_is_the_template_and_loads() -> None:
    shipped = (REPO / "config.toml").read_text("utf-8")
    assert shipped == (REPO / "bot" / "templates" / "config.toml").read_text("utf-8")
    settings = load_settings(REPO / "config.toml")
    assert sorted(settings.enabled_channels()) == ["facebook", "website", "zalo"]
    missing = "\n".join(settings.missing_secrets())
    for var in (
        "LOA_CHANNELS__WEBSITE__APP_PASSWORD",
        "LOA_CHANNELS__FACEBOOK__PAGE_TOKEN",
        "LOA_CHANNELS__ZALO__APP_SECRET",
        "LOA_CHANNELS__ZALO__REFRESH_TOKEN",
    ):
        assert var in missing
