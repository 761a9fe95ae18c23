"""The grader, shared by every evaluation and by the method's own agreement checks."""
from .evaluation import get_results, grade_file
from .grader import MODES, compare_many, equivalent, extract_answer, extract_pred, test_answer
from .normalize import normalize_final_answer

__all__ = ["MODES", "compare_many", "equivalent", "extract_answer", "extract_pred", "get_results",
           "grade_file", "normalize_final_answer", "test_answer"]
