"""The consent register: reading it, what it allows on a day, and errors that name the file, row and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from monitor import config
from monitor.cli import main
from monitor.consent import ConsentRegisterError, Permission, load_register
from monitor.errors import ConfigError

HEADER = "name,permission,given,ends,withdrawn,also_known_as,role\n"


def write(tmp_path: Path, text: str, name: str = "consent.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_register_reads_every_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "Margaret Jones,named; pictured,2026-03-02,2027-03-01,,Maggie; @maggie.j,service user\n"
        + "\n"
        + "Priya Shah,named+quoted,2025-09-01,,2026-05-31,,staff\n",
    )

    register = load_register(path)

    margaret, priya = register.people
    assert margaret.permissions == {Permission.NAMED, Permission.PICTURED}
    assert (margaret.given, margaret.ends, margaret.role) == (date(2026, 3, 2), date(2027, 3, 1), "service user")
    assert register.find("@maggie.j") is margaret
    assert register.find("MAGGIE") is margaret
    assert register.find("Priya") is priya
    assert register.find("Joseph Mensah") is None
    assert margaret.permission_on(Permission.NAMED, date(2026, 6, 1)) is None
    assert margaret.permission_on(Permission.QUOTED, date(2026, 6, 1)) == "agreed to be named and pictured, not quoted"
    assert margaret.permission_on(Permission.NAMED, date(2026, 3, 1)) == "gave permission only from 2 March 2026"
    assert margaret.permission_on(Permission.NAMED, date(2027, 3, 2)) == "gave permission that ended on 1 March 2027"
    assert priya.permission_on(Permission.NAMED, date(2026, 5, 30)) is None
    assert priya.permission_on(Permission.NAMED, date(2026, 5, 31)) == "withdrew their permission on 31 May 2026"


def test_the_fingerprint_changes_with_what_the_register_allows_not_with_the_day(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, HEADER + "Ann Lee,named,2026-01-01,2026-06-30,,,\n"))

    assert register.fingerprint(date(2026, 3, 1)) == register.fingerprint(date(2026, 6, 30))
    assert register.fingerprint(date(2026, 6, 30)) != register.fingerprint(date(2026, 7, 1))


def test_a_toml_register_reads_like_the_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[person]]\nname = "Ann Lee"\npermission = ["named", "quoted"]\ngiven = 2026-01-01\nrole = "staff"\n',
        "consent.toml",
    )

    (ann,) = load_register(path).people

    assert (ann.name, ann.permissions, ann.given, ann.role) == (
        "Ann Lee",
        {Permission.NAMED, Permission.QUOTED},
        date(2026, 1, 1),
        "staff",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name,given\nAnn Lee,2026-01-01\n", "row 1 (the header): column 'permission' is missing"),
        ("name,permission,given,colour\n", "row 1 (the header): unknown column 'colour'"),
        (HEADER + "Ann Lee,named,2026-13-01,,,,\n", "row 2, column 'given': '2026-13-01' is not a date"),
        (HEADER + "Ann Lee,named,,,,,\n", "row 2, column 'given': required, a date such as 2026-03-31"),
        (HEADER + "Ann Lee,,2026-01-01,,,,\n", "row 2, column 'permission': required, one or more of named"),
        (
            HEADER + "Ann Lee,filmed,2026-01-01,,,,\n",
            "row 2, column 'permission': 'filmed' is not a kind of permission",
        ),
        (HEADER + ",named,2026-01-01,,,,\n", "row 2, column 'name': required"),
        (HEADER + "Ann Lee,named,2026-01-01,2025-01-01,,,\n", "row 2, column 'ends': 2025-01-01 is before 'given'"),
        (HEADER + "Ann Lee,named,2026-01-01,,,,resident\n", "row 2, column 'role': 'resident' is not one of"),
        (HEADER + "Ann Lee,named,2026-01-01,,,,,extra\n", "row 2: more fields than the header"),
        (
            HEADER + "Ann Lee,named,2026-01-01,,,,\nAnn Lee,pictured,2026-01-01,,,,\n",
            "row 3: 'ann lee' is already used by row 2",
        ),
    ],
)
def test_a_bad_csv_row_is_an_error_naming_the_file_row_and_column(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConsentRegisterError) as raised:
        load_register(path)

    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)


def test_toml_and_file_errors_name_the_entry_and_the_problem(tmp_path: Path) -> None:
    toml = write(
        tmp_path, '[[person]]\nname = "Ann Lee"\npermission = ["named"]\ngiven = 2026-01-01\nage = 80\n', "c.toml"
    )
    with pytest.raises(ConsentRegisterError, match=r"c\.toml: person\[0\]: unknown key 'age'"):
        load_register(toml)
    with pytest.raises(ConsentRegisterError, match="the consent register does not exist"):
        load_register(tmp_path / "missing.csv")
    with pytest.raises(ConsentRegisterError, match=r"must be a \.csv or a \.toml file"):
        load_register(write(tmp_path, "Ann Lee", "consent.txt"))


def test_the_config_checks_the_register_at_start_up(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "Ann Lee,named,someday,,,,\n")
    raw = {"own_posts": {"consent_register": "consent.csv"}}

    with pytest.raises(ConfigError) as raised:
        config.from_mapping(raw, tmp_path / "config.toml")

    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'config.toml'}: own_posts.consent_register: {tmp_path / 'consent.csv'}: ")
    assert "row 2, column 'given': 'someday' is not a date" in message
    with pytest.raises(ConfigError, match=r"own_posts\.tone_threshold: Input should be less than or equal to 1"):
        config.from_mapping({"own_posts": {"tone_threshold": 3}}, tmp_path / "config.toml")
    with pytest.raises(ConfigError, match=r"own_posts\.register: unknown key"):
        config.from_mapping({"own_posts": {"register": "consent.csv"}}, tmp_path / "config.toml")


def test_consent_check_reports_what_the_register_allows_or_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, HEADER + "Ann Lee,named,2020-01-01,,,,\nBob Cole,named; pictured,2020-01-01,,2021-01-01,,\n")
    bad = write(tmp_path, HEADER + "Ann Lee,named,2020-01-01,,,,\nBob Cole,named,2020-02-30,,,,\n", "bad.csv")

    assert main(["consent", "check", "--register", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"{good}: 2 people, no problems found" in out
    assert "may be named today: 1" in out
    assert "permission withdrawn, ended or not yet begun: Bob Cole" in out

    assert main(["consent", "check", "--register", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: row 3, column 'given': '2020-02-30' is not a date" in err
