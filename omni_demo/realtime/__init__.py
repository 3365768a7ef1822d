"""Live voice: a WebSocket endpoint at /v1/realtime speaking a subset of the OpenAI Realtime protocol.

`protocol` parses client events and builds server events, `vad` decides when the user speaks,
`session` runs one conversation (turn-taking, answers through the same `Engine` as the chat,
barge-in, truncation) and `endpoint` serves it over a WebSocket. Nothing here imports gradio,
torch or transformers.
"""
