"""nbgrader's ``CheckCellMetadata``, checking each distinct cell metadata against the schema once per process.

Why: nbgrader checks the ``nbgrader`` metadata of every cell with ``jsonschema.validate``, which
first checks the *schema itself* against JSON Schema's meta-schema, on every call.  Autograde does
it twice per notebook (after sanitising and after running it), for 30-40 cells each time: about
0.2 s of CPU per submission, a tenth of what a grading process spends outside the kernels.  Yet
every submission of an assignment carries the same few dozen metadata dictionaries (nbgrader has
put the source's metadata back into them by then), so a dictionary that passed once passes again.

The checks are nbgrader's own (``MetadataValidator``, unchanged).  The only difference: a cell whose
type and metadata are exactly those of a cell that passed every check before in this process is
not checked again.  Metadata that fails is checked (and fails) every time; so is a cell for which
nbgrader logs "cell type has changed"; the whole-notebook check (no grade id twice) always runs.

Configured in nbgrader_config.py in place of nbgrader's, in ``Autograde.sanitize_preprocessors``
and ``Autograde.autograde_preprocessors``.
"""
import json
import threading
import traceback

from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import CheckCellMetadata as NbgraderCheckCellMetadata

MEMO_SIZE = 4096   # distinct metadata remembered; a tampered class cannot grow the memo past this
_PASSED = set()
_LOCK = threading.Lock()


class RememberingValidator(MetadataValidator):
    """nbgrader's metadata validator that skips a (cell type, metadata) pair it has seen pass."""

    def validate_cell(self, cell):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return super().validate_cell(cell)
        try:
            key = (cell.cell_type, json.dumps(meta, sort_keys=True))
        except (TypeError, ValueError):
            return super().validate_cell(cell)
        if key in _PASSED:
            return None
        super().validate_cell(cell)
        # nbgrader only warns when the recorded cell type differs: such a cell is checked (and warned about) each time
        if meta.get("cell_type", cell.cell_type) == cell.cell_type:
            with _LOCK:
                if len(_PASSED) < MEMO_SIZE:
                    _PASSED.add(key)
        return None


class CheckCellMetadata(NbgraderCheckCellMetadata):
    """nbgrader's preprocessor with ``RememberingValidator``: the same errors, logged the same way."""

    def preprocess(self, nb, resources):
        try:
            RememberingValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message) from None
        return nb, resources
