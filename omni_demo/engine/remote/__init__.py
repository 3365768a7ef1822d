"""Remote back-ends: the same `Engine` in front of vLLM-Omni, vLLM or Alibaba Cloud's DashScope.

Everything here speaks HTTP through the official `openai` client and decodes the streamed chunks
itself; nothing imports torch, transformers or gradio, so a CPU-only Space can run it.

- `wire`: one chunk parser per service (streamed JSON chunk -> TextDelta / AudioChunk);
- `backends`: what each service can do and how a request is written for it;
- `engine`: `RemoteEngine`, the `Engine` implementation, and `load_remote(settings)`.
"""
