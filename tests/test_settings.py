"""The instructor's disclosure settings (optkit.toml): validation, and what Gradescope's results.json then shows."""

from __future__ import annotations

import pytest

from autograder.reports.gradescope import results_json
from autograder.reports.model import CaseResult, ExerciseResult, GradeReport
from autograder.settings import DEFAULT_SETTINGS, FeedbackSettings, SettingsError, load_settings

REPORT = GradeReport("s.ipynb", [ExerciseResult(6, "update_parameters_with_adam", 25.0, [
    CaseResult("public case (t 2)", False, hidden=False, feedback="W1 is wrong", hint="the recipe: v = ..."),
    CaseResult("4-layer network, t 1000, beta1 0.9", False, feedback="W4 is wrong", hint="the recipe: v = ..."),
    CaseResult("tiny gradients", False, feedback="W1 is wrong",
               hint="your result is exactly what this mistake gives: epsilon is inside the square root",
               misconception="epsilon is inside the square root"),
    CaseResult("1-layer network", True),
])])


@pytest.mark.parametrize(("text", "message"), [
    ("[feedback]\nhints = 'no'\n", "feedback.hints must be true or false, not 'no'"),
    ("[feedback]\nhidden_labels = 0\n", "feedback.hidden_labels must be true or false"),
    ("[feedback]\nhidden_cases = 'after_grading'\n",
     "feedback.hidden_cases must be one of visible, after_due_date, after_published, hidden"),
    ("[feedback]\nhint = false\n", "unknown key(s) ['hint'] in [feedback]; allowed: hints, hidden_cases"),
    ("[grading]\ntimeout = 3\n", "unknown table(s) ['grading']"),
    ("feedback = 3\n", "feedback must be a table"),
    ("[feedback\nhints = true\n", "is not valid TOML"),
])
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "optkit.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=r"optkit\.toml") as error:
        load_settings(path)
    assert message in str(error.value)


def test_missing_given_file_is_an_error_but_no_file_in_the_folder_means_defaults(tmp_path, monkeypatch):
    with pytest.raises(SettingsError, match="cannot read the settings file"):
        load_settings(tmp_path / "absent.toml")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == DEFAULT_SETTINGS
    (tmp_path / "optkit.toml").write_text("[feedback]\nhidden_cases = 'after_due_date'\n")
    assert load_settings() == FeedbackSettings(hidden_cases="after_due_date")


def _tests(settings: FeedbackSettings) -> list[dict]:
    return results_json(REPORT, settings)["tests"]


def test_gradescope_defaults_show_everything():
    tests = _tests(DEFAULT_SETTINGS)
    assert [t["visibility"] for t in tests] == ["visible"] * 4
    assert tests[1]["name"].endswith("4-layer network, t 1000, beta1 0.9")
    assert "Hint: the recipe" in tests[1]["output"]
    assert "Your result is exactly what this mistake gives: epsilon is inside" in tests[2]["output"]


@pytest.mark.parametrize("visibility", ["visible", "after_due_date", "after_published", "hidden"])
def test_gradescope_hidden_cases_take_the_chosen_visibility(visibility):
    tests = _tests(FeedbackSettings(hidden_cases=visibility))
    assert [t["visibility"] for t in tests] == ["visible", visibility, visibility, visibility]


def test_gradescope_without_hints_or_hidden_labels():
    tests = _tests(FeedbackSettings(hints=False, hidden_labels=False))
    assert not any("Hint:" in t["output"] or "recipe" in t["output"] for t in tests)
    assert [t["name"].split(": ", 1)[1] for t in tests] == ["public case (t 2)", "hidden case 2", "hidden case 3",
                                                           "hidden case 4"]
    assert "epsilon is inside the square root" in tests[2]["output"]  # the named mistake stays
    assert sum(t["score"] for t in tests) == pytest.approx(25 / 4)


@pytest.mark.parametrize("visibility", ["after_due_date", "after_published", "hidden"])
def test_gradescope_summary_reveals_no_hidden_result_while_hidden_cases_are_not_shown(visibility):
    output = results_json(REPORT, FeedbackSettings(hidden_cases=visibility))["output"]
    assert "0/1" in output and "public cases only" in output  # the one public case, failed
    assert "1/4" not in output and "6.25" not in output  # neither the case count nor the score with hidden cases
    assert "1/4" in results_json(REPORT)["output"]  # the default shows everything
