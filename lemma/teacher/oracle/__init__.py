"""The built-in world's rule-based teacher (`OracleTeacher`, teacher.py) and its parts:
model.py (a problem's structure as a graph of keyed values), judge.py (the first wrong step and its
type), inject.py (one error of a given type put into a solution), write.py (corrections and
smoothing)."""

from lemma.teacher.oracle.model import StructureError, WorldModel
from lemma.teacher.oracle.teacher import OracleTeacher

__all__ = ["OracleTeacher", "StructureError", "WorldModel"]
