import subprocess
import sys

from glopt import __version__


def test_console_entry_point():
    out = subprocess.run([sys.executable, "-m", "glopt.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout
    out = subprocess.run([sys.executable, "-m", "glopt.cli"], capture_output=True, text=True)
    assert "validate" in out.stdout


def test_import_glopt_is_light():
    """The heavy optional dependencies load where they are used, not at `import glopt`."""
    code = ("import sys, glopt; heavy = [m for m in ('cvxpy', 'torch', 'matplotlib', 'sklearn') "
            "if m in sys.modules]; print(heavy); assert glopt.GLSVC.__name__ == 'GLSVC'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]"


def test_readme_examples_run():
    """Every python block of README.md and of the pages in docs/ runs as written."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = root / "README.md"
    assert len(readme.read_text().splitlines()) <= 250  # the entry point; details live in docs/
    pages = [readme] + sorted((root / "docs").glob("*.md"))
    counts = {}
    for page in pages:
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
        counts[page.name] = len(blocks)
        for block in blocks:
            exec(compile(block, str(page), "exec"), {})
    assert counts["README.md"] >= 4
