"""Command line: ``python -m course grade | check NOTEBOOK... | corpus [NAME...] | clean [NOTEBOOK...]``.

grade  release hw4 and grade the example submissions (the README's main job)
check  an author's check of source notebooks, each in a scratch course folder
corpus grade the corpus of simulated submissions and print its confusion table
clean  strip outputs, execution counts and stray metadata from source notebooks
"""
import argparse
import sys

from . import ROOT, notebooks, settings
from .authoring import check as author_check, corpus, examples


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("grade", help="release hw4, grade the example submissions, print the table")
    check = sub.add_parser("check", help="check source notebooks one by one in a scratch course")
    check.add_argument("notebooks", nargs="+")
    corp = sub.add_parser("corpus", help="grade corpus/ and print the confusion table")
    corp.add_argument("names", nargs="*", help="notebook names (default: all)")
    clean = sub.add_parser("clean", help="strip outputs and stray metadata from source notebooks")
    clean.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "grade":
        return examples.main_job()
    if args.command == "check":
        return max(author_check.check_notebook(path) for path in args.notebooks)
    if args.command == "corpus":
        return corpus.main(args.names or None)
    paths = args.notebooks or sorted(settings.load(ROOT).source.glob("*.ipynb"))
    for path in paths:
        nb = notebooks.read(path)
        if notebooks.dirt(nb):
            notebooks.write(notebooks.clean(nb), path)
            print(f"cleaned {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
