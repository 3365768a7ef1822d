"""Keeping a long-running server's disk and memory bounded, whoever serves the page.

- `tempfiles`: reply WAVs in one folder per process, removed by age and size;
- `sweep`: Gradio's cache of uploads and returned files, swept by the same age rule under load;
- `heap`: freed CPU memory handed back to the system after requests (glibc `malloc_trim`), and the
  malloc arenas capped before any thread starts.

Nothing here imports gradio, torch or transformers.
"""
