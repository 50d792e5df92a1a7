"""Grading a hostile submission: the walls between student code and everything that grades it.

    sandbox          SandboxedKernelManager: the student's kernel in bubblewrap, with limits and a
                     clean environment
    trusted_execute  TrustedExecute (replaces nbgrader's Execute): student cells in the sandboxed
                     kernel, provided and test cells in a trusted kernel of their own
    forkserver       warm kernels: the grader's side of the template process each kernel is forked from
    read_ahead       a submission's next notebook run in a thread while nbgrader is on this one
    template         the template process itself (run as a script, in the sandbox for student kernels)
    bridge           the trusted kernel's side: student answers as proxies that call across the wall
    tracebacks       how an error in a test cell reads: the notebook's own lines and the message
    plaindata        the only thing that crosses the wall: plain data, never a pickle
    repair           RepairingExporter: every submitted notebook rebuilt from the source notebook
    inert            what a student wrote rendered inert in every page (feedback, formgrader):
                     sanitised markdown, only harmless outputs (c.HTMLExporter)
    formgrader_csp   a Content-Security-Policy on the formgrader's pages (a Jupyter server
                     extension, enabled by jupyter-config/ that ./run installs)

All but the last are loaded by nbgrader_config.py, so the plain ``nbgrader autograde`` and
``generate_feedback`` have them.
May import: course.settings, course.notebooks (plaindata: the standard library and numpy only).
"""
