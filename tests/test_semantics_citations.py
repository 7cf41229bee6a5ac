"""Every citation of the semantics document resolves inside the repository.

The code and the docs cite what the original code does as `docs/pylearn2_semantics.md#<section>`.
This checks, over every text file of the repository, that each mention of the document names that
path (not a copy outside the repository), that the file exists, and that every cited section is a
heading of it (GitHub's anchor of the heading); also that the document's own links between its
sections resolve.
"""
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = "docs/pylearn2_semantics.md"
NAME = "pylearn2_semantics" + ".md"        # split so that this file holds no citation of its own
TEXT_SUFFIXES = {".py", ".md", ".txt", ".yaml", ".yml", ".sh", ".cfg", ".ini", ".toml", ""}
SKIP_DIRS = {".git", ".venv", "data", "runs", ".aesara_compiledir", "__pycache__", ".pytest_cache",
             ".hypothesis"}
CITATION = re.compile(r"(\S*)" + re.escape(NAME) + r"(#[A-Za-z0-9_\-]+)?")


def anchor(heading):
    """GitHub's anchor of a Markdown heading: lower case, punctuation other than '-' and '_'
    dropped, spaces turned into '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown):
    """The anchors of every heading (duplicates numbered -1, -2, ... as GitHub does)."""
    seen, result = {}, set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else re.match(r"#{1,6} (.+)", line)
        if match:
            base = anchor(match.group(1))
            count = seen.get(base, 0)
            result.add(base if count == 0 else f"{base}-{count}")
            seen[base] = count + 1
    return result


def repository_files():
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, capture_output=True, text=True, check=True).stdout
        paths = [REPO / line for line in listed.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for root, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            paths += [Path(root) / name for name in files]
    return [p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file()
            and not set(p.relative_to(REPO).parts) & SKIP_DIRS]


def bad_citations(text, known_anchors):
    """(citation, why) for each mention of the document in ``text`` that does not resolve."""
    problems = []
    for match in CITATION.finditer(text):
        prefix, section = match.group(1), match.group(2)
        path = (prefix.split("`")[-1].split("(")[-1] + NAME).lstrip("'\"")
        if path != DOC and path != NAME:
            problems.append((match.group(0), f"names {path}, not {DOC}"))
        elif path == NAME:
            problems.append((match.group(0), f"names the document without its folder ({DOC})"))
        elif section is not None and section[1:] not in known_anchors:
            problems.append((match.group(0), f"no section {section} in {DOC}"))
    return problems


def test_every_citation_names_an_existing_section():
    """Property: every mention of the semantics document in the repository is
    `docs/pylearn2_semantics.md`, optionally with `#section`, the file exists and every cited
    section is one of its headings; and there are at least 10 citations (the code does cite it).
    Exact: no unresolved citation is allowed; the count has only the floor 10, below what the
    repository holds, so that a pattern that stops matching fails."""
    document = REPO / DOC
    assert document.is_file(), f"{DOC} is missing"
    known = anchors(document.read_text(encoding="utf-8"))
    problems, citations = [], 0
    for path in repository_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        citations += len(CITATION.findall(text))
        problems += [(path.relative_to(REPO).as_posix(), c, why)
                     for c, why in bad_citations(text, known)]
    assert not problems, "\n".join(f"{p}: {c}: {why}" for p, c, why in problems)
    assert citations >= 10


def test_the_documents_own_links_resolve():
    """Property: every `](#section)` link inside the document names one of its headings. Exact:
    each link must equal an anchor, as GitHub resolves it only character for character."""
    text = (REPO / DOC).read_text(encoding="utf-8")
    known = anchors(text)
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert links and not [link for link in links if link not in known]


def test_the_checker_finds_what_does_not_resolve():
    """Property: the checker reports a copy outside the repository, a bare file name and an unknown
    section, and accepts a citation of an existing section (so the test above can fail). Exact: one
    problem per bad citation with its reason text, none for the good one."""
    known = {"random-streams"}
    good = f"see {DOC}#random-streams and ({DOC})"
    assert bad_citations(good, known) == []
    for bad, why in ((f"../elsewhere/{NAME}", "not docs/"),
                     (f"see {NAME} §9.2", "without its folder"),
                     (f"{DOC}#no-such-section", "no section")):
        found = bad_citations(bad, known)
        assert len(found) == 1 and why in found[0][1], (bad, found)


def test_anchor_follows_github():
    """Property: headings map to GitHub's anchors (lower-cased, punctuation dropped, spaces '-').
    Exact: string equality, as a link works only if it matches GitHub's anchor character for
    character."""
    assert anchor("The cost and its gradients") == "the-cost-and-its-gradients"
    assert anchor("CIFAR-10") == "cifar-10"
    assert anchor("RectifiedLinear and Sigmoid") == "rectifiedlinear-and-sigmoid"
    assert anchors("## Setup\n### Setup\n```\n# not a heading\n```\n") == {"setup", "setup-1"}
