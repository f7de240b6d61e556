"""The configuration: secrets from the environment or a file, clear errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.errors import ValidationError
from crmkit_m365 import M365Config

BASE = {"tenant_id": "contoso", "client_id": "app", "mailboxes": ["a@firma.de"]}


def test_the_secret_comes_from_the_environment_or_a_file_and_never_shows(tmp_path: Path) -> None:
    from_env = M365Config.from_mapping(BASE, environ={"CRMKIT_M365_SECRET": "s3cr3t-env"})
    assert from_env.secret == "s3cr3t-env" and "s3cr3t" not in repr(from_env)
    (tmp_path / "secret").write_text("s3cr3t-file\n", encoding="utf-8")
    from_file = M365Config.from_mapping({**BASE, "secret_file": "secret"}, base=tmp_path,
                                        environ={})  # fmt: skip
    assert from_file.secret == "s3cr3t-file"
    toml = tmp_path / "m365.toml"
    toml.write_text(
        'tenant_id = "contoso"\nclient_id = "app"\nmailboxes = ["a@firma.de"]\n'
        'secret_file = "secret"\n[filter]\ntags = ["kunde"]\nexclude_objected = false\n'
        '[fields]\njob_title = ["both", "crm_wins"]\n',
        encoding="utf-8",
    )
    config = M365Config.from_toml(toml)
    assert config.where.tags == {"kunde"} and not config.where.exclude_objected
    assert config.table.rule("job_title").policy == "crm_wins"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**BASE, "tenant_id": " "}, "tenant_id"),
        ({**BASE, "mailboxes": []}, "mailboxes"),
        ({**BASE, "mailboxes": ["a@firma.de", "A@firma.de"]}, "mailboxes"),
        ({**BASE, "filter": {"tag": ["kunde"]}}, "filter"),
        ({**BASE, "fields": {"job_title": ["both", "loudest_wins"]}}, "policy"),
        ({**BASE, "secret_file": "/nonexistent/secret"}, "secret_file"),
        (BASE, "secret"),
    ],
)
def test_bad_configuration_names_the_field_in_english_and_german(
    data: dict[str, object], field: str
) -> None:
    env = {} if field in ("secret", "secret_file") else {"CRMKIT_M365_SECRET": "x"}
    with pytest.raises(ValidationError) as err:
        M365Config.from_mapping(data, environ=env)
    assert err.value.findings[0].field == field
    assert field in str(err.value) and field in err.value.message("de")
