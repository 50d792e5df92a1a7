"""Code only the test suite uses: JupyterLab servers for the browser test, the exchange rehearsal,
gradebook dumps for comparing runs.  Importable as `support` (pytest puts tests/ on the path)."""
