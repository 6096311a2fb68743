"""The quality suites `python -m eval` runs: the gold set on the seed corpus (facts, citations, abstentions,
conversations, disagreements) and the dataset suites (PubMedQA, MedQuAD, COVID-QA) on their test splits, with the
metrics, the records of a run and its report."""
