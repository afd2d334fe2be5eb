"""`flask classifiers load`: an official edition is checked line by line and installed for
every process; codes tenders use are not silently dropped."""

from pathlib import Path

import pytest

from positions import classifiers
from tenders import service as tenders
from tenders.commands import classifiers_cli
from tenders.schemas import TenderCreate
from tests.factories import draft_body, make_org, make_user


@pytest.fixture()
def installed(app):
    """The app's CLASSIFIERS_DIR, emptied afterwards so other tests see the shipped data."""
    folder = Path(app.config["CLASSIFIERS_DIR"])
    yield folder
    classifiers.use_directory(None)  # first: it forgets the loaded data only if it sees it
    for name in (classifiers.OKPD2_NAME, classifiers.OKEI_NAME):
        (folder / name).unlink(missing_ok=True)
    classifiers.use_directory(folder)


def _run(app, *args):
    return app.test_cli_runner().invoke(classifiers_cli, ["load", *args])


def test_bad_lines_are_named_and_nothing_is_installed(app, ctx, installed, tmp_path):
    table = tmp_path / "okpd2.tsv"
    table.write_text("Код\tНаименование\n25\tИзделия\n25.x\tПлохо\n25\tСнова\n", "utf-8")
    result = _run(app, "okpd2", str(table))
    assert result.exit_code == 1
    assert "okpd2.tsv: line 3: '25.x' is not an OKPD2 code" in result.output
    assert "okpd2.tsv: line 4: 25 appears twice" in result.output
    assert "2 problem(s); nothing installed" in result.output
    assert not (installed / classifiers.OKPD2_NAME).exists()


def test_codes_in_use_must_stay_unless_forced(app, ctx, db, installed, tmp_path):
    org = make_org(is_customer=True, is_supplier=False)
    body = draft_body()
    body["categories"] = ["25.94.11"]
    tenders.create_draft(make_user(org), org, TenderCreate().load(body))
    db.session.flush()
    table = tmp_path / "okpd2.tsv"
    table.write_text("25\tИзделия металлические готовые\n25.1\tМеталлоконструкции\n", "utf-8")

    refused = _run(app, "okpd2", str(table))
    assert refused.exit_code == 1 and "25.94.11" in refused.output
    assert "nothing installed" in refused.output

    dry = _run(app, "okpd2", str(table), "--dry-run")
    assert dry.exit_code == 0 and "Dry run: nothing installed." in dry.output

    forced = _run(app, "okpd2", str(table), "--force")
    assert forced.exit_code == 0, forced.output
    assert (installed / classifiers.OKPD2_NAME).exists()
    classifiers.use_directory(None)
    classifiers.use_directory(installed)  # what a restarted process does
    assert [c.code for c in classifiers.categories() if c.level] == ["25", "25.1"]
    assert len(classifiers.children(None)) == 21  # the sections stay


def test_okei_edition_is_installed(app, ctx, installed, tmp_path):
    units = "\n".join(f"{u.code};{u.name};{u.short};{u.short_en}" for u in classifiers.units())
    table = tmp_path / "okei.csv"
    table.write_text("Код;Наименование;Обозначение;Международное\n" + units + "\n", "utf-8")
    result = _run(app, "okei", str(table))
    assert result.exit_code == 0, result.output
    assert f"{len(classifiers.units())} OKEI entries read" in result.output
    assert (installed / classifiers.OKEI_NAME).read_text("utf-8").startswith("code;name;short")
