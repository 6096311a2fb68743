"""Evaluation harness: a hand-written gold set on the corpus, plus PubMedQA and MedQuAD retrieval.

    python -m eval --suite all --limit 1000 --report eval/reports
    from eval import run_eval
"""

from .harness import EvalRun, SuiteResult, run_eval

__all__ = ["EvalRun", "SuiteResult", "run_eval"]
