"""Counts only the assignment step that moved the centres, not the final one that changed nothing."""

LOSES = ("hand_iterations",)

hand_iterations = 1
