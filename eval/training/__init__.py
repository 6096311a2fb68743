"""What is learned or tuned, and on which split: `python -m eval.training.splits` (the committed document-level
splits), `.train_scorer` (the evidence scorer, train splits), `.tune` (settings, dev splits), `.ablation` (each rule
switched off, test splits)."""
