"""Speed and scale: `python -m eval.benchmarks.bench` (ours against a stock LangChain pipeline, eval/BENCHMARK.md),
`.levers` (each speed lever, eval/LEVERS.md), `.scale` (Ray and Qdrant, eval/SCALE.md), `.concurrency` (concurrent
ask() against serial); `measure` holds what they measure with."""
