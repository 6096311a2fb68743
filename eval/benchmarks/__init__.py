"""Speed and scale: `python -m eval.benchmarks.bench` (ours against a stock LangChain pipeline, eval/BENCHMARK.md),
`.levers` (each speed lever, eval/LEVERS.md), `.scale` (Ray and Qdrant, eval/SCALE.md), `.concurrency` (concurrent
ask() against serial), `.http` (the real server under 1, 8 and 64 clients, its section of eval/BENCHMARK.md);
`measure` holds what they measure with."""
