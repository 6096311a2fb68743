"""Evaluation harness: a hand-written gold set on the corpus, plus PubMedQA and MedQuAD retrieval.

    python -m eval                                # gold suite: facts, citations, abstentions, multi-turn, weighing, ablation
    python -m eval --suite synthesis --split dev  # abstracts pooled with unreviewed pages that claim no evidence
    python -m eval --suite all --limit 1000       # CI: gold + all 1,000 PubMedQA abstracts + 1,000 MedQuAD passages
    python -m eval --suite medquad                # the full MedQuAD set (15,817 passages; embedding takes hours on 2 cores)
    python -m eval --suite pubmedqa --ablation    # all four retrievers on the datasets too
    assistant eval ...                            # the same command through the project CLI

Data defaults to ../shared/data beside the repository (pass --data PATH otherwise); built indexes are cached in
eval/.cache/ keyed by data checksum and slice size. Exit status: 0 all thresholds met (eval/thresholds.yaml),
1 a metric missed its bar (printed), 2 a usage or data error. In code: `run_eval(["gold"], report_dir=...)`.
"""

from .suites.harness import EvalRun, SuiteResult, run_eval

__all__ = ["EvalRun", "SuiteResult", "run_eval"]
