"""Write each tutorial notebook (.ipynb) from its Markdown source (.md, jupytext's format), in en/ and ko/.

    pip install -e ".[docs]"
    python docs/tutorial/build.py          # then run them: jupyter lab docs/tutorial/en

The Markdown is the reviewable source; tests/test_tutorials.py checks the two agree and runs every notebook.
"""

from pathlib import Path

import jupytext

HERE = Path(__file__).parent


def notebooks() -> list[Path]:
    return sorted(HERE.glob("*/[0-9][0-9]-*.md"))


def main() -> None:
    for md in notebooks():
        nb = jupytext.read(md)
        nb.metadata.pop("jupytext", None)
        jupytext.write(nb, md.with_suffix(".ipynb"))
        print(md.with_suffix(".ipynb"))


if __name__ == "__main__":
    main()
