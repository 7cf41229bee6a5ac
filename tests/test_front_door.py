"""What a newcomer reads first: LICENSE, CITATION.cff, the README's citation, the install extras."""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def setup_py():
    """setup.py's EXTRAS and the keyword arguments it passes to setup(), setuptools not run."""
    captured = {}
    namespace = {"__name__": "setup_py_under_test"}
    source = (REPO / "setup.py").read_text()
    source = source.replace("from setuptools import find_packages, setup",
                            "find_packages = lambda **kw: []\n"
                            "setup = lambda **kw: captured.update(kw)")
    namespace["captured"] = captured
    exec(compile(source, "setup.py", "exec"), namespace)
    return namespace["EXTRAS"], captured


def test_license_lists_existing_files_and_covers_every_yaml_of_the_project():
    """LICENSE keeps goodfeli/adversarial's copyright notice, every YAML path or pattern it names
    exists, and together they cover every YAML file under yaml_experiments/. Exact: file names; a
    YAML the LICENSE does not mention would leave its origin unstated."""
    text = (REPO / "LICENSE").read_text()
    assert "Copyright (c) 2014, Ian Goodfellow" in text  # goodfeli/adversarial's notice
    listed = re.findall(r"yaml_experiments/[\w/*.]+\.yaml", text)
    covered = set()
    for pattern in listed:
        matches = list(REPO.glob(pattern))
        assert matches, f"LICENSE names {pattern}, which does not exist"
        covered.update(path.relative_to(REPO) for path in matches)
    everything = {path.relative_to(REPO) for path in (REPO / "yaml_experiments").rglob("*.yaml")}
    assert everything - covered == set(), "YAML files LICENSE does not say are derived (or not)"


def test_citation_file_names_the_paper_and_this_version():
    """CITATION.cff (format 1.2) cites the 2014 paper (title, year, 8 authors, Goodfellow first),
    and its version and license match setup.py's; the README's BibTeX has the title, pages
    2672--2680 and the same version. Exact: text compared as written."""
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"].startswith("1.2")
    paper = cff["preferred-citation"]
    assert paper["title"] == "Generative Adversarial Nets" and paper["year"] == 2014
    assert [a["family-names"] for a in paper["authors"]][0] == "Goodfellow"
    assert len(paper["authors"]) == 8
    assert cff["version"] == setup_py()[1]["version"]
    assert cff["license"] == "BSD-3-Clause" == setup_py()[1]["license"]
    readme = (REPO / "README.md").read_text()
    bibtex = re.search(r"```bibtex\n(.*?)```", readme, flags=re.S).group(1)
    assert "title     = {Generative Adversarial Nets}" in bibtex
    assert "pages     = {2672--2680}" in bibtex and f"version = {{{cff['version']}}}" in bibtex


def test_the_torch_extra_does_not_bring_aesara_nor_cap_numpy():
    """The core requirements name neither Aesara, torch nor a numpy cap (<2); the torch extra is
    torch>=2.11 alone, the aesara extra pins aesara 2.9.4 and numpy <2, "all" holds every extra, and
    make installs the extras with every requirement pinned in constraints.txt. Exact: text."""
    extras, kwargs = setup_py()
    core = " ".join(kwargs["install_requires"])
    assert "aesara" not in core and "<2" not in core and "torch" not in core
    assert extras["torch"] == ["torch>=2.11"]
    assert "aesara==2.9.4" in extras["aesara"] and "numpy>=1.26,<2" in extras["aesara"]
    assert set(extras["all"]) >= set(extras["torch"] + extras["aesara"] + extras["test"])
    # make installs every extra, with the pinned versions.
    makefile = (REPO / "Makefile").read_text()
    assert "-c constraints.txt -e '.[torch,aesara,test,figures]'" in makefile
    pinned = {line.split("==")[0].lower() for line in (REPO / "constraints.txt").read_text().split()
              if "==" in line}
    for group in ("torch", "aesara", "test", "figures"):
        for requirement in extras[group]:
            assert re.split(r"[<>=!]", requirement)[0].lower() in pinned, requirement


def test_readme_first_screen_says_what_is_and_is_not_reproduced():
    """The README's "Results at a glance" gives the paper's 225 ± 2, says what is **not yet**
    reproduced, has the Table 1 campaign status line, and quotes each parity figure exactly as
    REPRODUCING.md reports it. Exact: the figures are copied text, which must not drift apart."""
    readme = (REPO / "README.md").read_text()
    glance = readme[readme.index("## Results at a glance"):readme.index("## How long things take")]
    assert "225 ± 2" in glance and "**not yet**" in glance
    assert re.search(r"^Table 1 campaign status\b", glance, flags=re.M)
    assert "4.5e-12" in glance
    # Each parity figure quoted is the one REPRODUCING.md reports.
    reproducing = (REPO / "REPRODUCING.md").read_text()
    for figure in ("6.0e-7", "9.7e-7", "2.9e-11", "4.5e-12", "5.0e-5", "0.69314116",
                   "164.26 ± 1.40", "154.53 ± 1.48"):
        assert figure in glance and figure in reproducing, figure
