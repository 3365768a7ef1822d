"""Every piece of page text the UI owns: stable id -> (English, Simplified Chinese).

Fields in braces are filled in by `omni_demo.i18n.text(key, lang, **values)`.
"""

from __future__ import annotations

UI: dict[str, tuple[str, str]] = {
    # -------------------------------------------------------------------------------- the page
    "page.title": ("Qwen3-Omni demo", "Qwen3-Omni 演示"),
    "page.model": (
        "**Model:** `{name}` ({kind}) on `{device}`",
        "**模型**：`{name}`（{kind}），运行于 `{device}`",
    ),
    "page.preview": ("⚠️ **Preview model: answers are random.**", "⚠️ **预览模型：回答是随机的。**"),
    "page.preview_more": (  # left out on a phone, where the conversation needs the first screen
        "This is a tiny random-weight Qwen3-Omni that runs on any "
        "CPU, so every control works but the text and speech are noise. To load a real checkpoint, "
        "start the demo on a GPU with `python app.py --model {model}` (or a local folder).",
        "这是一个可在任何 CPU 上运行的随机权重微型 Qwen3-Omni，"
        "所有控件都能使用，但文字和语音都是噪声。要加载真实模型，请在 GPU 上用 "
        "`python app.py --model {model}`（或本地文件夹）启动演示。",
    ),
    "page.language": ("Language", "语言"),
    "lang.en": ("English", "English"),
    "lang.zh": ("中文", "中文"),
    "tab.chat": ("Chat", "对话"),
    "tab.live": ("Live", "实时语音"),
    # -------------------------------------------------------------------------------- chat tab
    "chat.preset": ("System prompt preset", "系统提示词预设"),
    "chat.system": ("System prompt", "系统提示词"),
    "chat.none": ("(none)", "（无）"),
    "chat.no_system": ("✕ No system prompt", "✕ 不用系统提示词"),
    "chat.voice": ("Voice", "音色"),
    "chat.speak": ("Speak the reply", "朗读回复"),
    "chat.aiv": ("Audio in video", "视频中的音频"),
    "chat.aiv_info": (
        "The model hears attached videos' sound tracks; a silent video is only seen "
        "(fixed for a whole conversation).",
        "模型会听到所附视频的音轨；无声视频只看画面（整段对话中保持不变）。",
    ),
    "chat.sampling": ("Sampling", "采样"),
    "chat.temperature": ("Temperature (0 = greedy)", "温度（0 = 贪心解码）"),
    "chat.top_p": ("Top-p", "Top-p"),
    "chat.top_k": ("Top-k", "Top-k"),
    "chat.max_tokens": ("Max new tokens", "最多生成的 token 数"),
    "chat.conversation": ("Conversation", "对话"),
    "chat.speech": ("Spoken reply (streams as it is made)", "语音回复（边生成边播放）"),
    "chat.placeholder": (
        "Type a message, attach audio, images or videos, or record your voice",
        "输入消息，添加音频、图片或视频，或录下你的声音",
    ),
    "chat.one_clip": ("One audio clip (≤ 30 s recommended)", "一段音频（建议 ≤ 30 秒）"),
    "chat.send": ("Send", "发送"),
    "chat.describe": ("Describe the audio", "描述这段音频"),
    "chat.stop": ("Stop", "停止"),
    "chat.clear": ("Clear", "清空"),
    "chat.webcam": ("Record from the webcam (with sound)", "用摄像头录制（带声音）"),
    "chat.webcam_label": ("The recording is attached to your next message", "录像会附在你的下一条消息中"),
    "chat.aiv_locked": (
        "“Audio in video” can't change in the middle of a conversation; "
        "switch it back, or press Clear to start over with the new setting.",
        "“视频中的音频”不能在对话中途更改；请改回原来的设置，或按“清空”用新设置重新开始。",
    ),
    "chat.forgotten": (
        "The server no longer holds this conversation (it was idle while many others were used); "
        "press Clear to start a new one.",
        "服务器已不再保存这段对话（它闲置期间有许多其他对话在进行）；请按“清空”开始新的对话。",
    ),
    "error.unexpected": (
        "Something went wrong on the server while answering (it was logged); try again, or press Clear.",
        "服务器在回答时出错（已记录日志）；请重试，或按“清空”。",
    ),
    # -------------------------------------------------------------------------------- live tab
    "live.start": ("Start", "开始"),
    "live.stop": ("Stop", "停止"),
    "live.state.idle": ("Press Start, then just talk.", "按“开始”，然后直接说话。"),
    "live.state.connecting": ("Starting…", "正在启动…"),
    "live.state.listening": ("Listening", "正在听"),
    "live.state.hearing": ("Hearing you", "正在听你说"),
    "live.state.thinking": ("Thinking…", "思考中…"),
    "live.state.waiting": (
        "Waiting for the GPU (another answer is being made)",
        "等待 GPU（正在生成另一个回答）",
    ),
    "live.state.speaking": ("Speaking", "正在回答"),
    "live.state.answering": ("Answering", "正在回答"),
    "live.played": ("▶ {seconds} s", "▶ {seconds} 秒"),
    "live.hint": (
        "It answers when you pause; speak over it to interrupt.",
        "你停顿时它就会回答；开口说话即可打断它。",
    ),
    "live.headphones": (
        "🎧 Use headphones: from loudspeakers the model may hear itself and stop mid-sentence.",
        "🎧 请戴耳机：用扬声器外放时，模型可能听到自己的声音而中途停下。",
    ),
    "live.insecure": (
        "The microphone works only on a secure page: open this demo over https or on localhost.",
        "麦克风只能在安全的页面上使用：请通过 https 或在 localhost 上打开本演示。",
    ),
    "live.camera.on": ("📷 Camera", "📷 摄像头"),
    "live.camera.off": ("📷 Camera off", "📷 关闭摄像头"),
    "live.camera.hint": (
        "📷 While the camera is on, about one picture a second goes with your next turn (the last 4).",
        "📷 摄像头开启时，每秒约一张画面会随你的下一句话发送（保留最近 4 张）。",
    ),
    "live.camera_failed": (
        "The camera could not be opened ({error}); allow it for this page or talk without it.",
        "无法打开摄像头（{error}）；请为本页面允许摄像头，或不用摄像头继续对话。",
    ),
    "live.pictures": (" · 📷 {count}", " · 📷 {count}"),
    "live.you.speaking": ("🎤 …", "🎤 …"),
    "live.you.spoke": ("🎤 … ({seconds} s)", "🎤 …（{seconds} 秒）"),
    "live.progress": ("▶ {played} s of {made} s", "▶ 已播放 {played} 秒，共 {made} 秒"),
    "live.interrupted": (
        "⏹ interrupted: you heard {heard} s of {made} s",
        "⏹ 已打断：你听到了 {made} 秒中的 {heard} 秒",
    ),
    "live.unheard": ("(interrupted before you heard any of it)", "（还没听到就被打断了）"),
    "live.mic_denied": (
        "The browser did not allow the microphone; allow it for this page, then press Start again.",
        "浏览器没有允许使用麦克风；请为本页面允许麦克风，然后再按“开始”。",
    ),
    "live.mic_failed": (
        "The microphone could not be opened ({error}); check that one is connected, then press Start again.",
        "无法打开麦克风（{error}）；请检查是否已连接麦克风，然后再按“开始”。",
    ),
    "live.closed": (
        "The connection to the server was lost; press Start to talk again.",
        "与服务器的连接已断开；按“开始”即可重新对话。",
    ),
    "live.login": ("Log in on this page first, then press Start.", "请先在本页面登录，然后按“开始”。"),
    "live.expired": (
        "The live session reached its time limit; press Start to begin a new one.",
        "实时会话已达到时长上限；按“开始”即可开始新的会话。",
    ),
    "live.too_long": (
        "That turn was too long and was dropped; pause a little sooner.",
        "这一段话太长，已被丢弃；请早一点停顿。",
    ),
    "live.settings": ("Settings", "设置"),
    "live.max_tokens": ("Longest answer (tokens)", "回答最长（token 数）"),
    "live.later": (
        "Changes apply from the next answer.",
        "更改从下一个回答开始生效。",
    ),
    # ------------------------------------------------------------------------ the reply bubbles
    "reply.empty": ("(no text)", "（无文字）"),
    "reply.reasoning": ("Reasoning", "推理过程"),
    "reply.timings": ("Timings", "用时"),
    "reply.note": ("Note", "提示"),
    # ------------------------------------------------------------------------- the timings line
    "timings.first_token": ("first token {seconds} s", "首个 token {seconds} 秒"),
    "timings.speed": ("{rate} tok/s ({tokens} tokens)", "{rate} token/秒（{tokens} 个 token）"),
    "timings.first_audio": ("first audio {seconds} s", "首段语音 {seconds} 秒"),
    "timings.speech": ("speech {seconds} s (RTF {rtf})", "语音 {seconds} 秒（实时率 {rtf}）"),
    "timings.underrun": ("underrun {seconds} s", "播放等待 {seconds} 秒"),
    "timings.total": ("total {seconds} s", "总计 {seconds} 秒"),
    "timings.gpu": ("peak GPU {gib} GiB", "GPU 峰值 {gib} GiB"),
    "timings.inputs": ("input tokens: {sizes}", "输入 token：{sizes}"),
    "timings.engine": ("{engine} engine", "{engine} 引擎"),  # the --engine value: "fast" or "plain"
    "timings.text": ("text", "文字"),
    "timings.audio": ("audio", "音频"),
    "timings.image": ("image", "图片"),
    "timings.video": ("video", "视频"),
    "timings.total_tokens": ("total", "合计"),
    # ---------------------------------------------------------------------------- cookbook tabs
    "cb.pick": ("Pick a case", "选择用例"),
    "cb.upstream": ("*Upstream settings:* {line}", "*上游设置*：{line}"),
    "cb.model_note": ("**⚠ Model:** {note}", "**⚠ 模型**：{note}"),
    "cb.example": ("Load example", "加载示例"),
    "cb.run": ("Run", "运行"),
    "cb.stop": ("Stop", "停止"),
    "cb.answer": ("**Answer**", "**回答**"),
    "cb.pending": ("…", "…"),
    "cb.running": ("Running…", "运行中…"),
    "cb.stopped": ("Stopped.", "已停止。"),
    "cb.answer_is_tools": ("(the answer is the tool calls below)", "（回答就是下方的工具调用）"),
    "cb.no_tool_calls": ("(no tool calls in the answer)", "（回答中没有工具调用）"),
    "cb.thinking": ("Reasoning (thinking…)", "推理过程（思考中…）"),
    "cb.audio_clip": (
        "Audio clip (≤ 30 s recommended): upload or record",
        "音频（建议 ≤ 30 秒）：上传或录音",
    ),
    "cb.audio": ("Audio: upload or record", "音频：上传或录音"),
    "cb.image": ("Image", "图片"),
    "cb.video": ("Video: upload or record with the webcam", "视频：上传或用摄像头录制"),
    "cb.language": ("Language spoken", "所说的语言"),
    "cb.lyrics": ("Lyrics mode (songs)", "歌词模式（歌曲）"),
    "cb.lyrics_info": ("Transcribe sung lyrics line by line.", "逐行转写演唱的歌词。"),
    "cb.from": ("From (speech)", "源语言（语音）"),
    "cb.to": ("To (text)", "目标语言（文字）"),
    "cb.prompt_preset": ("Prompt preset", "提示词预设"),
    "cb.prompt": ("Prompt (edit freely)", "提示词（可自由编辑）"),
    "cb.prompt_before": ("Text before the picture (edit freely)", "图片前的文字（可自由编辑）"),
    "cb.tools": ("Tools (JSON list, editable)", "工具（JSON 列表，可编辑）"),
    "cb.tools_reset": ("Reset to the default tools", "恢复为默认工具"),
    "cb.settings": ("Settings", "设置"),
    "cb.speak": ("Speak the answer", "朗读回答"),
    "cb.tools_prompt": ("System prompt sent to the model", "发送给模型的系统提示词"),
    "cb.not_valid": ("(not valid yet: {error})", "（尚不有效：{error}）"),
    "cb.persona": ("Persona (system prompt)", "角色（系统提示词）"),
    "cb.spoken": ("Spoken answer (streams as it is made)", "语音回答（边生成边播放）"),
    "cb.boxes": ("Boxes found", "找到的框"),
    "cb.tool_calls": ("**Tool calls**", "**工具调用**"),
    "cb.note": ("**Note:** {note}", "**提示**：{note}"),
    "cb.timings": ("**Timings:** {line}", "**用时**：{line}"),
    # --------------------------------------------------------------------------------- feedback
    "fb.title": ("Your feedback", "你的反馈"),
    "fb.hint": (
        "Rate any answer with 👍 or 👎 beside it; a comment is optional.",
        "可用回答旁的 👍 或 👎 给任意回答打分；评论可选。",
    ),
    "fb.up": ("👍 Good", "👍 好"),
    "fb.down": ("👎 Bad", "👎 不好"),
    "fb.comment": ("Comment on the answer you rated (optional)", "对你评分的回答写几句评论（可选）"),
    "fb.placeholder": ("What was right or wrong about it?", "哪里好，哪里不好？"),
    "fb.send": ("Save comment", "保存评论"),
    "fb.saved": (
        "Thanks: your rating of answer {number} was saved.",
        "谢谢：你对第 {number} 个回答的评分已保存。",
    ),
    "fb.withdrawn": ("Your rating of answer {number} was withdrawn.", "你对第 {number} 个回答的评分已撤回。"),
    "fb.comment_saved": (
        "Thanks: your comment on answer {number} was saved.",
        "谢谢：你对第 {number} 个回答的评论已保存。",
    ),
    "fb.rate_first": (
        "Rate an answer with 👍 or 👎 first, then comment on it.",
        "请先用 👍 或 👎 给回答评分，再写评论。",
    ),
    "fb.no_answer": (
        "There is no answer to rate yet; press Run first.",
        "还没有可评分的回答；请先按“运行”。",
    ),
    # ---------------------------------------------------------------------- take the chat away
    "tr.title": ("Take the conversation away", "带走这段对话"),
    "tr.download": ("Download the conversation (zip)", "下载对话（zip）"),
    "tr.file": ("The conversation, ready to download", "对话文件，可下载"),
    "tr.load": ("Load a conversation (zip or json)", "载入对话（zip 或 json）"),
    "tr.loaded": (
        "Loaded {answers} answers from “{name}”; the conversation goes on from here.",
        "已从“{name}”载入 {answers} 个回答；可以接着对话。",
    ),
}
