"""The fast engine: the same model classes and weights, without `generate()`'s per-token overhead.

`generate()` spends most of each token in Python and in launching hundreds of tiny kernels; on a
GPU the model waits. Here every per-token loop has fixed shapes over preallocated caches, so each
step is one CUDA graph replay: the thinker's decode step (`thinker.py`), and a whole speech frame,
talker step plus the code predictor's 15 residual codes (`talker.py`). Tokens are still chosen
with transformers' own logits processors (`sampling.py`), so greedy output equals `generate()`'s.
`FastPath` (`run.py`) drives them for one request. On a CPU the same loops run without graphs.
"""

from omni_demo.engine.fast.run import FastPath

__all__ = ["FastPath"]
