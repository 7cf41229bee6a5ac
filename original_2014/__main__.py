"""Build and run the original 2014 stack beside the project (needs the network, Python 2.7, g++ and
Debian's OpenBLAS; not part of ``make test``).

    python -m original_2014 build [--python python2.7] [--pylearn2 SRC] [--adversarial SRC]
    python -m original_2014 run [--epochs 1] [--yaml mnist.yaml] [--dump-steps 1-500 --dump-dir DIR]

``build`` makes ``build/original_2014/`` (or ``--dir``): the Python 2.7 packages numpy 1.16.6, scipy
1.2.3, Theano 0.7.0, PyYAML 5.4.1 and six from PyPI installed with the interpreter's own pip into
``site/``, and the two repositories at their pinned commits in ``src/``. SRC is a URL of a .tar.gz
archive (default: GitHub's archive of the pinned commit), a local git repository that holds the
commit (bare or not; read with ``git archive``), or a folder that already holds the source tree.

``run`` starts the file's own ``pylearn2.train.Train`` on Python 2.7 with THEANO_FLAGS
``floatX=float32,device=cpu`` (the 2014 run's), a compile cache inside the build folder, Debian's
OpenBLAS (``blas.ldflags=-lopenblas``) and ``gcc.cxxflags=-L<the interpreter's library folder>``
(Theano 0.7 otherwise looks for libpython2.7.so in the wrong folder); a user's THEANO_FLAGS come
last and win. It prints the seconds of each training epoch and each monitoring pass.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from gan2014.blas import choose_coretype

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / "build" / "original_2014"
DRIVER = Path(__file__).resolve().parent / "driver27.py"

SOURCES = {
    # name: (GitHub repository, pinned commit, a file the source tree must hold)
    "pylearn2": ("lisa-lab/pylearn2", "4c833ab4da8f0ddb557aef57071b72c462350efb",
                 "pylearn2/training_algorithms/sgd.py"),
    "adversarial": ("goodfeli/adversarial", "1720041f51efcb92df61d1638f1a74aea2ae74c2",
                    "mnist.yaml"),
}
PACKAGES = ("numpy==1.16.6", "scipy==1.2.3", "Theano==0.7.0", "PyYAML==5.4.1", "six==1.16.0")


class StackError(RuntimeError):
    """A missing prerequisite or a bad source; the message says which and what to do."""


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise StackError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                         f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def python27_facts(python):
    found = shutil.which(python)
    if found is None:
        raise StackError(f"no Python 2.7 interpreter {python!r} on PATH; install Python 2.7.18 "
                         "(e.g. with pyenv) and pass it with --python")
    code = ("import sys, sysconfig; print(sys.version.split()[0]); "
            "print(sysconfig.get_config_var('LIBDIR')); print(sys.executable)")
    version, libdir, executable = _run([found, "-c", code]).split()
    if not version.startswith("2.7."):
        raise StackError(f"{python!r} is Python {version}; the 2014 stack needs Python 2.7")
    return {"python": executable, "python_version": version, "libdir": libdir}


def check_system():
    if shutil.which("g++") is None:
        raise StackError("no g++ on PATH: Theano compiles its C code with it (apt-get install g++)")
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    if "libopenblas.so " not in listing and "libopenblas.so\t" not in listing:
        raise StackError("the linker finds no libopenblas.so: install Debian's OpenBLAS "
                         "(apt-get install libopenblas-dev), the BLAS of the 2014 run")


def fetch_source(name, spec, target):
    """Put the source tree of `name` at its pinned commit into `target` (replaced if present)."""
    github, commit, marker = SOURCES[name]
    spec = spec or f"https://github.com/{github}/archive/{commit}.tar.gz"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    local = Path(spec).expanduser()
    if "://" in spec:
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "source.tar.gz"
            try:
                with urllib.request.urlopen(spec, timeout=120) as response, \
                        open(archive, "wb") as out:
                    shutil.copyfileobj(response, out)
            except OSError as error:
                raise StackError(f"cannot download {name} from {spec}: {error}; pass a local "
                                 f"copy with --{name} (a git repository or a source folder)")
            _extract_stripped(archive, target)
    elif _is_git_repository(local):
        try:
            _run(["git", f"--git-dir={_git_dir(local)}", "cat-file", "-e", f"{commit}^{{commit}}"])
        except StackError:
            raise StackError(f"the git repository {local} does not hold {name}'s commit {commit}")
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "source.tar"
            _run(["git", f"--git-dir={_git_dir(local)}", "archive", "-o", str(archive), commit])
            with tarfile.open(archive) as tar:
                tar.extractall(target)
    elif local.is_dir():
        shutil.copytree(local, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".git", "*.pyc"))
    else:
        raise StackError(f"--{name} {spec!r} is neither a URL, a git repository nor a folder")
    if not (target / marker).is_file():
        raise StackError(f"{spec} does not look like {github}: {marker} is missing")
    return spec


def _git_dir(path):
    return path / ".git" if (path / ".git").exists() else path


def _is_git_repository(path):
    if not path.is_dir():
        return False
    result = subprocess.run(["git", f"--git-dir={_git_dir(path)}", "rev-parse", "--git-dir"],
                            capture_output=True, text=True)
    return result.returncode == 0


def _extract_stripped(archive, target):
    """Extract a GitHub archive (one top folder) into target, without that folder."""
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) == 2 and parts[1]:
                member.name = parts[1]
                members.append(member)
        tar.extractall(target, members=members)


def build(args):
    folder = Path(args.dir).resolve()
    check_system()
    facts = python27_facts(args.python)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"building the 2014 stack in {folder} with Python {facts['python_version']}")
    sources = {}
    for name, spec in (("pylearn2", args.pylearn2), ("adversarial", args.adversarial)):
        # src/pylearn2 is the repository (its package is src/pylearn2/pylearn2); adversarial's
        # repository root is the Python package itself, so src/ goes on the path for it.
        sources[name] = fetch_source(name, spec, folder / "src" / name)
        print(f"{name} {SOURCES[name][1][:7]} from {sources[name]}")
    site = folder / "site"
    if site.exists():
        shutil.rmtree(site)
    print(f"pip install {' '.join(PACKAGES)}")
    _run([facts["python"], "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
          "--target", str(site), *PACKAGES])
    facts.update(sources=sources, commits={k: v[1] for k, v in SOURCES.items()},
                 packages=list(PACKAGES))
    (folder / "stack.json").write_text(json.dumps(facts, indent=1) + "\n")
    print(f"done: python -m original_2014 run --dir {args.dir} --epochs 1")
    return 0


def load_stack(folder):
    folder = Path(folder).resolve()
    try:
        facts = json.loads((folder / "stack.json").read_text())
    except FileNotFoundError:
        raise StackError(f"{folder} holds no built stack: run `python -m original_2014 build` "
                         "first")
    facts["folder"] = str(folder)
    return facts


def environment(facts, data_path=None, threads=None):
    folder = Path(facts["folder"])
    env = dict(os.environ)
    data = Path(data_path or env.get("PYLEARN2_DATA_PATH") or REPO / "data").resolve()
    if not (data / "mnist" / "train-images-idx3-ubyte").is_file():
        raise StackError(f"no MNIST at {data}/mnist/train-images-idx3-ubyte: run `make data` or "
                         "set PYLEARN2_DATA_PATH")
    env["PYLEARN2_DATA_PATH"] = str(data)
    env["PYTHONPATH"] = os.pathsep.join([str(folder / "src" / "pylearn2"), str(folder / "src"),
                                         str(folder / "site")])
    env.pop("PYTHONHOME", None)
    ours = ["floatX=float32", "device=cpu", f"compiledir={folder / 'theano_compiledir'}",
            "blas.ldflags=-lopenblas", f"gcc.cxxflags=-L{facts['libdir']}"]
    user = env.get("THEANO_FLAGS")
    env["THEANO_FLAGS"] = ",".join(ours + ([user] if user else []))
    if threads:
        env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(threads)
    # The kernels legacy_aesara chooses for this CPU (gan2014/blas.py), so the two stacks' matrix
    # products add their terms in the same order; a user's OPENBLAS_CORETYPE wins on both sides.
    choose_coretype(env)
    return env


def run_command(facts, yaml_file, epochs, out, dump_steps="", dump_dir=None):
    command = [facts["python"], "-u", str(DRIVER), str(yaml_file), "--epochs", str(epochs),
               "--out", str(out)]
    if dump_steps:
        command += ["--dump-steps", dump_steps, "--dump-dir", str(dump_dir)]
    return command


def run(args):
    facts = load_stack(args.dir)
    default_yaml = Path(facts["folder"]) / "src" / "adversarial" / "mnist.yaml"
    yaml_file = Path(args.yaml) if args.yaml else default_yaml
    if not yaml_file.is_file():
        raise StackError(f"no YAML file {yaml_file}")
    if args.dump_steps and not args.dump_dir:
        raise StackError("--dump-steps needs --dump-dir")
    out = Path(args.out or Path(facts["folder"]) / "runs").resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = environment(facts, threads=args.threads)
    command = run_command(facts, yaml_file, args.epochs, out, args.dump_steps, args.dump_dir)
    print(f"THEANO_FLAGS={env['THEANO_FLAGS']}", flush=True)
    return subprocess.run(command, env=env).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m original_2014", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="install the 2014 stack into its folder")
    b.add_argument("--dir", default=str(DEFAULT_DIR))
    b.add_argument("--python", default="python2.7", help="the Python 2.7 interpreter")
    b.add_argument("--pylearn2", default=None, help="URL, git repository or folder of Pylearn2")
    b.add_argument("--adversarial", default=None,
                   help="URL, git repository or folder of goodfeli/adversarial")
    r = sub.add_parser("run", help="run a YAML file of the original for N epochs")
    r.add_argument("--dir", default=str(DEFAULT_DIR))
    r.add_argument("--yaml", default=None, help="default: the original repository's mnist.yaml")
    r.add_argument("--epochs", type=int, default=1)
    r.add_argument("--out", default=None, help="folder for the saved model (default <dir>/runs)")
    r.add_argument("--dump-steps", default="",
                   help="SGD steps (from 1) after which to save the parameters: '1-500', '8,142'")
    r.add_argument("--dump-dir", default=None, help="folder for the step_<k>.npz files")
    r.add_argument("--threads", type=int, default=None,
                   help="OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (default: the environment's)")
    args = parser.parse_args(argv)
    if args.command == "run" and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:
        return build(args) if args.command == "build" else run(args)
    except StackError as error:
        print(f"original_2014: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
