"""The package's public names: every one in __all__ resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import singletable


def test_every_public_name_resolves() -> None:
    for name in singletable.__all__:
        assert getattr(singletable, name) is not None, name


def test_the_server_does_not_import_the_modelling_layer() -> None:
    code = (
        "import sys, singletable.server, singletable.cli\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "assert 'botocore' not in sys.modules, 'botocore imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        singletable.Nope  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "Nope" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_the_readme_modelling_example_runs() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("## Modelling", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec", dont_inherit=True), namespace)
    db = namespace["db"]
    order_type = namespace["Order"]
    shipped = db.query(
        order_type.by_status,
        status="shipped",
        created_at=(  # type: ignore[attr-defined]
            namespace["datetime"].min,
            namespace["datetime"].max,  # type: ignore[attr-defined]
        ),
    ).all()
    assert [o.order_id for o in shipped] == ["o1"]


def test_ci_runs_the_readme_test_command() -> None:
    """The Quick start's second command is the one .ci/run runs (pip quietly there)."""
    from pathlib import Path

    root = Path(__file__).parents[2]
    quick_start = (root / "README.md").read_text().split("## Quick start", 1)[1]
    commands = [block.split("```", 1)[0].strip() for block in quick_start.split("```bash")[1:3]]
    assert commands[0] == "pip install -e . && python examples/quickstart.py"
    ci = (root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == "python -m " + commands[1].replace("pip install -e", "pip install -q -e", 1)
