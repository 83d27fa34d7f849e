"""The master notebook: nbgrader metadata, and a real execution checked against the published numbers.

The execution tests run the notebook once per module with nbclient and ipykernel, in a scratch copy of
``source/optimization_methods`` next to the helper modules of ``utils/``, exactly as a student would.
The expected costs and accuracies are the course's published values (ASSIGNMENT.md, "The model runs").
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.paths import MASTER_NOTEBOOK, SOURCE_DIR, UTILS_DIR

POINTS = {
    "update_parameters_with_gd": 10,
    "random_mini_batches": 20,
    "initialize_velocity": 5,
    "update_parameters_with_momentum": 15,
    "initialize_adam": 5,
    "update_parameters_with_adam": 25,
    "update_lr": 10,
    "schedule_lr_decay": 10,
}
NBGRADER_KEYS = {"schema_version", "grade", "solution", "locked", "grade_id", "points"}
GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]*$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
PASS_LINE = "All tests passed"
MAX_IMAGE_BYTES = 60_000

# (run id, optimizer, learning_rate argument (None: the default 0.0007), decay, accuracy,
#  cost at epochs 0 / 1000 / 2000 / 3000 / 4000), in notebook order.
RUNS = [
    ("gd", "gd", None, None, "0.7167", ["0.702405", "0.668101", "0.635288", "0.600491", "0.573367"]),
    ("momentum", "momentum", None, None, "0.7167",
     ["0.702413", "0.668167", "0.635388", "0.600591", "0.573444"]),
    ("adam", "adam", None, None, "0.9433", ["0.702166", "0.167845", "0.141316", "0.138788", "0.136066"]),
    ("gd_update_lr", "gd", "0.1", "update_lr", "0.6533",
     ["0.701091", "0.661884", "0.658620", "0.656765", "0.655486"]),
    ("gd_schedule", "gd", "0.1", "schedule_lr_decay", "0.9433",
     ["0.701091", "0.127161", "0.120304", "0.117033", "0.117512"]),
    ("momentum_schedule", "momentum", "0.1", "schedule_lr_decay", "0.9533",
     ["0.702226", "0.128974", "0.125965", "0.123375", "0.123218"]),
    ("adam_schedule", "adam", "0.01", "schedule_lr_decay", "0.9400",
     ["0.699346", "0.130074", "0.129826", "0.129282", "0.128361"]),
]
RUN_IDS = [run[0] for run in RUNS]


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def stdout_of(cell) -> str:
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
    return ANSI_ESCAPE.sub("", text)


def is_run_cell(cell) -> bool:
    return cell.cell_type == "code" and "= model(train_X, train_Y" in cell.source


def percent(accuracy: str) -> str:
    return f"{float(accuracy) * 100:.2f} %"


def table_column(markdown: str, header: str) -> list[str]:
    """The entries of a markdown table's column whose header starts with ``header``."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in markdown.splitlines() if line.startswith("|")]
    column = next(i for i, title in enumerate(rows[0]) if title.startswith(header))
    return [row[column] for row in rows[2:]]


def section(nb, anchor: str) -> str:
    """The markdown cell holding ``<a name='anchor'></a>``."""
    return next(c.source for c in nb.cells if c.cell_type == "markdown" and f"<a name='{anchor}'>" in c.source)

# --------------------------------------------------------------------------- static checks


@pytest.fixture(scope="module")
def master():
    return nbformat.read(MASTER_NOTEBOOK, as_version=4)


def test_notebook_is_valid(master):
    nbformat.validate(master)


def test_nbgrader_metadata_is_schema_v3(master):
    grade_ids = []
    for cell in master.cells:
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        assert set(meta) <= NBGRADER_KEYS, meta
        assert meta["schema_version"] == 3
        assert GRADE_ID.match(meta["grade_id"]), meta["grade_id"]
        grade_ids.append(meta["grade_id"])
        if meta["grade"]:
            assert isinstance(meta["points"], (int, float)) and meta["points"] > 0, meta
    assert len(grade_ids) == len(set(grade_ids)), "duplicate grade_id"


def test_graded_cells_are_each_followed_by_their_test_cell(master):
    cells = master.cells
    graded = [i for i, cell in enumerate(cells) if nbgrader_meta(cell).get("solution")]
    names = []
    for i in graded:
        cell, meta = cells[i], nbgrader_meta(cells[i])
        name = meta["grade_id"]
        names.append(name)
        assert cell.cell_type == "code"
        assert cell.source.splitlines()[0] == f"# GRADED FUNCTION: {name}"
        assert (meta["grade"], meta["locked"]) == (False, False)
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        test_cell, test_meta = cells[i + 1], nbgrader_meta(cells[i + 1])
        assert test_cell.source == f"{name}_test({name})"
        assert test_meta == {"schema_version": 3, "grade": True, "solution": False, "locked": True,
                             "grade_id": f"{name}_test", "points": POINTS[name]}
    assert names == list(POINTS)
    points = [nbgrader_meta(cell)["points"] for cell in cells if nbgrader_meta(cell).get("grade")]
    assert sum(points) == 100 and len(points) == len(POINTS)


def test_solution_regions_only_in_graded_cells(master):
    for cell in master.cells:
        if not nbgrader_meta(cell).get("solution"):
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source


def test_packages_and_model_cells_are_read_only(master):
    locked = {nbgrader_meta(c).get("grade_id"): c for c in master.cells if nbgrader_meta(c).get("locked")}
    for grade_id in ("packages", "model"):
        meta = nbgrader_meta(locked[grade_id])
        assert (meta["grade"], meta["solution"], meta["locked"]) == (False, False, True)
    packages = locked["packages"].source
    assert "from testCases import *" in packages and "from public_tests import *" in packages
    assert "%matplotlib inline" in packages
    assert "def model(X, Y, layers_dims, optimizer," in locked["model"].source
    assert not any("autoreload" in cell.source for cell in master.cells)


def test_loader_sees_the_eight_exercises(assignment):
    assert [e.name for e in assignment.exercises] == list(POINTS)
    assert {e.name: e.points for e in assignment.exercises} == POINTS
    assert assignment.total_points == 100


def test_images_are_local_small_and_present(master):
    markdown = "\n".join(c.source for c in master.cells if c.cell_type == "markdown")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(images) >= 5
    for image in images:
        assert image.startswith("images/") and image.endswith(".png"), image
        path = SOURCE_DIR / image
        assert path.is_file(), image
        assert path.stat().st_size < MAX_IMAGE_BYTES, image


def test_table_of_contents_anchors_exist(master):
    markdown = "\n".join(c.source for c in master.cells if c.cell_type == "markdown")
    anchors = set(re.findall(r"<a name='([^']+)'></a>", markdown))
    links = re.findall(r"\]\(#([^)]+)\)", markdown)
    assert len(links) >= 20
    assert set(links) <= anchors, set(links) - anchors


# --------------------------------------------------------------------------- executed notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The master notebook executed once in a fresh kernel, in a copy of the course directory."""
    workdir: Path = tmp_path_factory.mktemp("master")
    shutil.copy(MASTER_NOTEBOOK, workdir)
    shutil.copytree(SOURCE_DIR / "images", workdir / "images")
    for module in UTILS_DIR.glob("*.py"):
        shutil.copy(module, workdir)
    nb = nbformat.read(workdir / MASTER_NOTEBOOK.name, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


@pytest.fixture(scope="module")
def run_cells(executed):
    cells = [cell for cell in executed.cells if is_run_cell(cell)]
    assert len(cells) == len(RUNS)
    return dict(zip(RUN_IDS, cells, strict=True))


def test_no_errors(executed):
    errors = [(i, o.ename, o.evalue) for i, cell in enumerate(executed.cells) if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"]
    assert errors == []


def test_nothing_written_to_stderr(executed):
    stderr = [(i, o.text) for i, cell in enumerate(executed.cells) if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == []


def test_every_public_test_passes(executed):
    test_cells = [cell for cell in executed.cells if nbgrader_meta(cell).get("grade")]
    assert len(test_cells) == len(POINTS)
    for cell in test_cells:
        assert PASS_LINE in stdout_of(cell), cell.source


def test_expected_output_blocks_match_the_outputs(executed):
    """Each "Expected output" block shows what the code cells since the previous markdown printed."""
    checked, printed = 0, ""
    for cell in executed.cells:
        if cell.cell_type == "code":
            printed += stdout_of(cell)
        elif cell.source.startswith("**Expected output**"):
            block = re.search(r"```\n(.*?)\n```", cell.source, re.DOTALL).group(1)
            assert block in printed, block
            checked += 1
        else:
            printed = ""
    assert checked == 15


@pytest.mark.parametrize(("run_id", "optimizer", "learning_rate", "decay", "accuracy", "costs"), RUNS,
                         ids=RUN_IDS)
def test_training_run(run_cells, run_id, optimizer, learning_rate, decay, accuracy, costs):
    cell = run_cells[run_id]
    assert f'optimizer="{optimizer}"' in cell.source
    assert (f"learning_rate={learning_rate}" in cell.source) if learning_rate else (
        "learning_rate" not in cell.source)
    assert (f"decay={decay}" in cell.source) if decay else ("decay" not in cell.source)

    lines = stdout_of(cell).splitlines()
    assert [line for line in lines if line.startswith("Cost after epoch")] == [
        f"Cost after epoch {epoch}: {cost}" for epoch, cost in zip(range(0, 5000, 1000), costs, strict=True)]
    assert [line for line in lines if line.startswith("Accuracy")] == [f"Accuracy: {accuracy}"]
    if decay:
        assert len([line for line in lines if line.startswith("learning rate after epoch")]) == 5

    images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "expected the cost curve and the decision boundary"


def test_summary_tables(master):
    assert table_column(section(master, "6-4"), "accuracy") == [percent(run[4]) for run in RUNS[:3]]
    assert table_column(section(master, "7-4"), "accuracy") == [percent(run[4]) for run in RUNS]
