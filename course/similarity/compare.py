"""Scoring every pair of students' answer code, and finding the passages that match.

copydetect (winnowing, as in MOSS) fingerprints each student's answer code after tokenising it:
every name becomes one placeholder, strings another, comments and whitespace disappear.  Two
students share a fingerprint when they share a run of at least ``noise_threshold`` such tokens'
characters; every shared run of ``guarantee_threshold`` or more is certain to be found.
Fingerprints of the release's own code (stubs, provided and test cells) are boilerplate and never
count.

For a pair (A, B), copydetect gives the share of A's fingerprinted code found in B and the share of
B's found in A.  The pair's score is their mean: a copy scores high on both sides, while a short
answer that happens to sit inside a long one scores high on one side only.

May import: course.settings, copydetect.
"""
import io
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from copydetect import CodeFingerprint, compare_files
from traitlets import Int
from traitlets.config import Configurable


class Similarity(Configurable):
    """How ``python -m course.similarity`` compares answer code (set in nbgrader_config.py as c.Similarity.*)."""

    noise_threshold = Int(25, help="Matches shorter than this many characters of tokenised code are ignored "
                                   "(copydetect's noise threshold).").tag(config=True)
    guarantee_threshold = Int(30, help="Matches at least this long (tokenised characters) are always found "
                                       "(copydetect's guarantee threshold; not below noise_threshold).").tag(config=True)
    top = Int(10, help="How many of the most similar pairs are printed and shown side by side.").tag(config=True)


@dataclass
class Pair:
    """The comparison of two students' answer code."""

    a: str
    b: str
    score: float                 # mean of share_a and share_b, 0..1
    share_a: float               # share of a's fingerprinted code found in b's
    share_b: float
    passages: list = field(default_factory=list)   # [(text in a, text in b)], in a's order


def fingerprint(name, code, options, boilerplate=None):
    """copydetect's fingerprint of a piece of Python code (read from memory, never from a file)."""
    return CodeFingerprint(f"{name}.py", options.noise_threshold,
                           options.guarantee_threshold - options.noise_threshold + 1,
                           boilerplate=boilerplate, language="python", fp=io.StringIO(code))


def _raw(fp, positions):
    """Tokenised-code positions of ``fp`` as positions in its raw code (copydetect's own mapping)."""
    positions = np.asarray(positions, dtype=int)
    if len(fp.offsets) == 0 or positions.size == 0:
        return positions
    return positions + fp.offsets[:, 1][np.clip(np.searchsorted(fp.offsets[:, 0], positions),
                                                0, fp.offsets.shape[0] - 1)]


def _slice_of(slices, position):
    """The index of the slice (2 x N starts/ends) holding ``position``, or None."""
    for i, (start, end) in enumerate(zip(slices[0], slices[1])):
        if start <= position < end:
            return i
    return None


def matching_passages(fp_a, fp_b, slices_a, slices_b):
    """[(text of a, text of b)]: each copied region of a beside the region of b it was found in."""
    links = {}
    for h in fp_a.hashes & fp_b.hashes:
        for pos_a in _raw(fp_a, fp_a.hash_idx[h]):
            i = _slice_of(slices_a, pos_a)
            if i is None:
                continue
            for pos_b in _raw(fp_b, fp_b.hash_idx[h]):
                j = _slice_of(slices_b, pos_b)
                if j is not None:
                    links.setdefault(i, {}).setdefault(j, 0)
                    links[i][j] += 1
    passages = []
    for i in sorted(links):
        j = max(links[i], key=links[i].get)
        passages.append((whole_lines(fp_a.raw_code, slices_a[0][i], slices_a[1][i]),
                         whole_lines(fp_b.raw_code, slices_b[0][j], slices_b[1][j])))
    return passages


def whole_lines(code, start, end):
    """code[start:end] widened to whole lines: a match starts and ends inside tokens, a reader wants lines."""
    start = code.rfind("\n", 0, int(start)) + 1
    end = code.find("\n", max(int(end) - 1, start))
    return code[start:] if end < 0 else code[start:end]


def compare(documents, boilerplate_code="", options=None, top=None):
    """Every pair of ``documents`` ({student: answer code}), most similar first, as Pairs; the
    ``top`` most similar (default ``options.top``) with their matching passages.

    A student with no answer code at all (a blank submission) is compared like any other and
    scores 0 with everyone: nothing of theirs can match.
    """
    options = options or Similarity()
    if options.guarantee_threshold < options.noise_threshold:
        raise ValueError("Similarity.guarantee_threshold must be at least Similarity.noise_threshold "
                         f"({options.guarantee_threshold} < {options.noise_threshold})")
    boilerplate = list(fingerprint("release", boilerplate_code, options).hashes) if boilerplate_code.strip() else None
    prints = {student: fingerprint(student, code, options, boilerplate) for student, code in documents.items()}
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        _, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        share_a, share_b = float(share_a), float(share_b)
        pairs.append(Pair(a, b, (share_a + share_b) / 2, share_a, share_b))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    for pair in pairs[:options.top if top is None else top]:
        if pair.score > 0:   # passages are slow to find: only for the pairs a reader will see
            _, _, (slices_a, slices_b) = compare_files(prints[pair.a], prints[pair.b])
            pair.passages = matching_passages(prints[pair.a], prints[pair.b], slices_a.astype(int), slices_b.astype(int))
    return pairs
