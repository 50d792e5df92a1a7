"""The corpus of simulated submissions gets the verdicts it must (issue: the autograder grades right)."""
import pytest

from course import corpus


@pytest.fixture(scope="module")
def graded():
    return corpus.grade(corpus.cases())


def test_corpus_is_big_enough_and_covers_every_notebook(graded):
    correct = [c for c in graded if c.kind == "correct"]
    mistakes = [c for c in graded if c.kind == "mistake"]
    assert len(correct) >= 10 and len(mistakes) >= 30, (len(correct), len(mistakes))
    assert len({c.notebook for c in mistakes}) == 4


def test_every_verdict_is_right(graded):
    print(corpus.report(graded))
    wrong = [f"{c.path.name} ({c.notebook}): {c.verdict}; lost {sorted(c.lost)}" for c in graded if not c.right]
    assert not wrong, "corpus verdicts wrong:\n" + "\n".join(wrong)
