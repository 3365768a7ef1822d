"""Chinese for every sentence the model side shows to users, keyed by its English template.

A key is the English sentence exactly as the code that raises or returns it writes it, with each
f-string field written `{expression}` (format spec dropped) and literal braces doubled. The Chinese
template uses the same fields. `tests/unit/test_i18n.py` reads the code and fails when a sentence has
no entry here, or an entry no longer matches any sentence in the code.
"""

from __future__ import annotations

from omni_demo.cookbook import CASES
from omni_demo.i18n.cases import CASE_TEXT

SENTENCES: dict[str, str] = {
    # ----------------------------------------------------------------------------- conversation
    "Type a message or attach a file before sending.": "请先输入消息或添加文件，再发送。",
    "The Captioner takes exactly one audio clip and nothing else: attach one audio file, no text.": (
        "Captioner 模型只接受一段音频，不接受其他内容：请添加一个音频文件，不要输入文字。"
    ),
    "The media of {dropped} older {plural} was left out to keep the conversation within memory.": (
        "为使对话不超出内存，较早的 {dropped} 轮对话中的媒体已被省略。"
    ),
    # ------------------------------------------------------------------------------------ media
    "“{name}” has no file extension, so its type is unknown; {_SUPPORTED_HINT}.": (
        "“{name}”没有文件扩展名，无法判断其类型；{_SUPPORTED_HINT}。"
    ),
    "“{name}” can't be used because files of type {ext} aren't supported; {_SUPPORTED_HINT}.": (
        "无法使用“{name}”：不支持 {ext} 类型的文件；{_SUPPORTED_HINT}。"
    ),
    "“{name}” is {_KIND_WORDS[by_ext]} file but was sent as {_KIND_WORDS[media.kind]}; "
    "attach it as {_KIND_WORDS[by_ext]} or choose a different file.": (
        "“{name}”是{_KIND_WORDS[by_ext]}文件，却被当作{_KIND_WORDS[media.kind]}发送；"
        "请将其作为{_KIND_WORDS[by_ext]}添加，或换一个文件。"
    ),
    "“{name}” contains no sound; choose an audio file or record again.": (
        "“{name}”没有声音；请选择一个音频文件，或重新录音。"
    ),
    "The video “{name}” has no sound track; turn off “audio in video” or choose a video with sound.": (
        "视频“{name}”没有音轨；请关闭“视频中的音频”，或选择一个有声音的视频。"
    ),
    "“{name}” took too long to read; convert it to a common format and try again.": (
        "读取“{name}”耗时过长；请转换为常见格式后重试。"
    ),
    "“{name}” could not be decoded as audio; check the file or convert it to wav or mp3.": (
        "无法将“{name}”解码为音频；请检查文件，或转换为 wav 或 mp3。"
    ),
    "“{name}” is too short to hear anything; record or choose a longer clip.": (
        "“{name}”太短，听不到任何内容；请录制或选择更长的片段。"
    ),
    "The {what} “{name}” is longer than the {limit} s limit — trim it and try again.": (
        "{what}“{name}”超过了 {limit} 秒的时长上限——请剪短后重试。"
    ),
    "The {what} “{name}” is {length} s long; the limit is {limit} s — trim it and try again.": (
        "{what}“{name}”时长 {length} 秒，上限为 {limit} 秒——请剪短后重试。"
    ),
    "“{name}” contains no video picture; choose a video file (mp4, mov, webm).": (
        "“{name}”没有视频画面；请选择一个视频文件（mp4、mov、webm）。"
    ),
    "“{name}” could not be read as a video; check the file or convert it to mp4.": (
        "无法将“{name}”读取为视频；请检查文件，或转换为 mp4。"
    ),
    "“{name}” took too long to read; convert it to mp4 and try again.": (
        "读取“{name}”耗时过长；请转换为 mp4 后重试。"
    ),
    "“{name}” could not be decoded as a video; check the file or convert it to mp4.": (
        "无法将“{name}”解码为视频；请检查文件，或转换为 mp4。"
    ),
    "The video “{name}” has fewer than 2 frames; choose a longer video.": (
        "视频“{name}”不足 2 帧；请选择更长的视频。"
    ),
    "“{name}” is not an image we can read; choose a png, jpg or webp file.": (
        "无法读取图片“{name}”；请选择 png、jpg 或 webp 文件。"
    ),
    "“{name}” is damaged or incomplete; export it again or choose another image.": (
        "“{name}”已损坏或不完整；请重新导出，或选择另一张图片。"
    ),
    "“{name}” is {width} × {height} pixels, too long and thin to use; crop it and try again.": (
        "“{name}”为 {width} × {height} 像素，过于细长，无法使用；请裁剪后重试。"
    ),
    "The image “{name}” is too large (the limit is {limit} megapixels); shrink it and try again.": (
        "图片“{name}”太大（上限为 {limit} 百万像素）；请缩小后重试。"
    ),
    "The image “{name}” is {width} × {height} pixels, over the {limit} megapixel limit; "
    "shrink it and try again.": (
        "图片“{name}”为 {width} × {height} 像素，超过了 {limit} 百万像素的上限；请缩小后重试。"
    ),
    "The {what} “{name}” was not found; attach it again.": "找不到{what}“{name}”；请重新添加。",
    "The {what} “{name}” is empty; attach the file again or choose another one.": (
        "{what}“{name}”是空文件；请重新添加，或选择另一个文件。"
    ),
    "“{name}” could not be read as {as_what}; check the file or convert it to {fix}.": (
        "无法将“{name}”读取为{as_what}；请检查文件，或转换为 {fix}。"
    ),
    "“{name}” is damaged and could not be fully read; check the file or choose another.": (
        "“{name}”已损坏，无法完整读取；请检查文件，或选择另一个。"
    ),
    # ---------------------------------------------------------------------------------- answers
    "The answer was empty, so there are no boxes to draw.": "回答为空，没有可绘制的框。",
    "The answer did not contain readable box coordinates, so the raw answer is shown.": (
        "回答中没有可读取的框坐标，因此显示原始回答。"
    ),
    "{skipped} of the {mentioned} boxes in the answer could not be read and {verb} skipped.": (
        "回答中的 {mentioned} 个框里有 {skipped} 个无法读取，已跳过。"
    ),
    "The tool list is empty; paste a JSON list of tools or reset it to the default.": (
        "工具列表为空；请粘贴一个 JSON 工具列表，或恢复为默认列表。"
    ),
    "The tool list is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}).": (
        "工具列表不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列：{error.msg}）。"
    ),
    "The tool list is nested too deeply to read.": "工具列表嵌套过深，无法读取。",
    "The loaded model's chat template does not write tools into the prompt, so it can't call "
    "functions; start the demo with a Qwen3-Omni checkpoint.": (
        "当前模型的对话模板不会把工具写入提示词，因此无法调用函数；请用 Qwen3-Omni 的模型启动演示。"
    ),
    "The tool list must be a JSON list, written [ ... ], of tool objects.": (
        "工具列表必须是由工具对象组成的 JSON 列表，写作 [ ... ]。"
    ),
    "Tool {number} is not a JSON object; write each tool as {{...}}.": (
        "第 {number} 个工具不是 JSON 对象；请将每个工具写作 {{...}}。"
    ),
    'Tool {number} has a "function" that is not a JSON object.': (
        '第 {number} 个工具的 "function" 不是 JSON 对象。'
    ),
    'Tool {number} has no function name; give it a "name".': (
        '第 {number} 个工具没有函数名；请给它一个 "name"。'
    ),
    'The "parameters" of tool "{name}" must be a JSON object.': (
        '工具 "{name}" 的 "parameters" 必须是 JSON 对象。'
    ),
    'Two tools are named "{name}"; give each tool its own name.': (
        '有两个工具都叫 "{name}"；请给每个工具起不同的名字。'
    ),
    "The last tool call was cut off before it finished, so it is shown as raw text.": (
        "最后一个工具调用在完成前被截断，因此以原始文本显示。"
    ),
    "One tool call could not be read as JSON, so it is shown as raw text.": (
        "有一个工具调用无法按 JSON 读取，因此以原始文本显示。"
    ),
    "{unread} tool calls could not be read as JSON, so they are shown as raw text.": (
        "有 {unread} 个工具调用无法按 JSON 读取，因此以原始文本显示。"
    ),
    # --------------------------------------------------------------------------------- cookbook
    "Add {_INPUT_WORDS[kind]} first, or press “Load example”.": (
        "请先添加{_INPUT_WORDS[kind]}，或按“加载示例”。"
    ),
    "Add {words} first, or press “Load example”.": "请先添加{words}，或按“加载示例”。",
    "The boxes could not be drawn: {exc}": "无法绘制框：{exc}",
    "start the demo with --model {CHECKPOINTS[kind]}": "请用 --model {CHECKPOINTS[kind]} 启动演示",
    "{line} (or --model {PREVIEW_CHECKPOINTS[kind]} for the CPU preview)": (
        "{line}（CPU 预览请用 --model {PREVIEW_CHECKPOINTS[kind]}）"
    ),
    "This case needs the Captioner model: {_start_with(ModelKind.CAPTIONER, preview)}. "
    "With the {loaded} model loaded, use Audio Caption in the Audio tab instead.": (
        "此用例需要 Captioner 模型：{_start_with(ModelKind.CAPTIONER, preview)}。"
        "当前加载的是 {loaded} 模型，请改用“音频”标签页中的“音频描述”。"
    ),
    "The Captioner model loaded takes one audio clip and no prompt, so it can't run this case: "
    "{_start_with(ModelKind.INSTRUCT, preview)}, or use the Captioner tab.": (
        "当前加载的 Captioner 模型只接受一段音频、不接受提示词，无法运行此用例："
        "{_start_with(ModelKind.INSTRUCT, preview)}，或使用 Captioner 标签页。"
    ),
    "{case.title} is made for the Thinking model, which shows its reasoning step by step: "
    "{_start_with(ModelKind.THINKING, preview)}. The {loaded} model loaded runs it too, "
    "answering without the reasoning.": (
        "“{case.title}”专为 Thinking 模型设计，它会逐步展示推理过程："
        "{_start_with(ModelKind.THINKING, preview)}。当前加载的 {loaded} 模型也能运行，但不展示推理过程。"
    ),
    "The {loaded} model has no voice, so this case answers in text only; to hear it, "
    "{_start_with(ModelKind.INSTRUCT, preview)}.": (
        "{loaded} 模型不能说话，此用例只以文字回答；"
        "如需听到回答，{_start_with(ModelKind.INSTRUCT, preview)}。"
    ),
    # ------------------------------------------------------------------ feedback and transcripts
    "Your feedback could not be saved because the server's disk is full; the chat goes on as before.": (
        "服务器磁盘已满，无法保存你的反馈；对话不受影响。"
    ),
    "Your feedback could not be saved because the feedback folder can't be written; "
    "the chat goes on as before.": "反馈文件夹无法写入，无法保存你的反馈；对话不受影响。",
    "There is nothing to download yet; send a message first.": "还没有可下载的内容；请先发送一条消息。",
    "“{name}” could not be read as a saved conversation; choose the zip or json that "
    "“Download the conversation” made.": (
        "无法将“{name}”读取为保存的对话；请选择由“下载对话”生成的 zip 或 json。"
    ),
    "“{name}” is not a conversation saved by this demo; choose the zip or json that "
    "“Download the conversation” made.": (
        "“{name}”不是本演示保存的对话；请选择由“下载对话”生成的 zip 或 json。"
    ),
    "“{name}” was saved by a newer version of this demo; update the demo to load it.": (
        "“{name}”由更新版本的演示保存；请更新演示后再载入。"
    ),
    "“{name}” unpacks to more than 4 GiB; load a smaller conversation.": (
        "“{name}”解压后超过 4 GiB；请载入更小的对话。"
    ),
    "“{name}” holds no conversation to load.": "“{name}”中没有可载入的对话。",
    "One attached file was not in “{name}”, so it was left out; load the zip to bring it back.": (
        "“{name}”中缺少 1 个附件，已省略；载入 zip 文件即可找回。"
    ),
    "{conversation.missing} attached files were not in “{name}”, so they were left out; "
    "load the zip to bring them back.": (
        "“{name}”中缺少 {conversation.missing} 个附件，已省略；载入 zip 文件即可找回。"
    ),
    # ----------------------------------------------------------------------------------- engine
    "The voice “{voice}” does not exist for this model; choose one of {names}.": (
        "此模型没有“{voice}”这个音色；请从 {names} 中选择。"
    ),
    "The model could not read one of the attached files; try another file.": (
        "模型无法读取其中一个附件；请换一个文件。"
    ),
    "The GPU ran out of memory for this request; send shorter or fewer clips, smaller images "
    "or videos, ask for fewer new tokens or no speech, or clear the chat to drop older media.": (
        "此请求使 GPU 显存不足；请发送更短或更少的片段、更小的图片或视频，减少最大新 token 数或关闭语音，"
        "或清空对话以去掉较早的媒体。"
    ),
    "The clip is {seconds} s long; the Captioner is made for clips of up to "
    "{CAPTIONER_MAX_SECONDS} s, so its caption may miss details of a longer one.": (
        "这段音频长 {seconds} 秒；Captioner 适用于不超过 {CAPTIONER_MAX_SECONDS} 秒的音频，"
        "对更长的音频，描述可能遗漏细节。"
    ),
    "This request needs about {total} input tokens, over this server's limit of {cap}; "
    "use shorter clips, fewer attachments, or press Clear to start over.": (
        "此请求约需 {total} 个输入 token，超出了本服务器 {cap} 个的上限；"
        "请使用更短的片段、减少附件，或按“清空”重新开始。"
    ),
    "This request needs about {total} input tokens, over this server's limit of {cap}; "
    "a {width}×{height} video may be at most about {seconds} s long here — trim it.": (
        "此请求约需 {total} 个输入 token，超出了本服务器 {cap} 个的上限；"
        "在这里，{width}×{height} 的视频最长约 {seconds} 秒——请剪短。"
    ),
    # ---------------------------------------------------------- engine: remote back-ends (HTTP)
    "The {service} server sent a reply this demo cannot read, so the answer stopped there; "
    "check that the server and the --backend flag match.": (
        "{service} 服务器发来的回复本演示无法读取，回答已在此处停止；请检查服务器与 --backend 参数是否匹配。"
    ),
    "The {self.backend.title} server at {self.client.base_url} cannot be reached; "
    "check that it is running and that --api-base is right.": (
        "无法连接位于 {self.client.base_url} 的 {self.backend.title} 服务器；"
        "请确认它正在运行，且 --api-base 正确。"
    ),
    "The connection to {self.backend.title} broke in the middle of the answer; send again.": (
        "与 {self.backend.title} 的连接在回答中途断开；请重新发送。"
    ),
    "{self.backend.title} sent nothing for {seconds} s, so the answer was stopped; "
    "the server may be overloaded: try again shortly.": (
        "{self.backend.title} 已有 {seconds} 秒没有发送任何内容，回答已停止；服务器可能过载，请稍后再试。"
    ),
    "{self.backend.title} stopped the answer with an error; try again shortly.": (
        "{self.backend.title} 因出错中止了回答；请稍后再试。"
    ),
    "{backend.title} refused the API key (HTTP {status}); check --api-key or {backend.key_env}.": (
        "{backend.title} 拒绝了 API 密钥（HTTP {status}）；请检查 --api-key 或 {backend.key_env}。"
    ),
    "{backend.title} does not serve a model named “{model}”; check --remote-model and --api-base.": (
        "{backend.title} 没有提供名为“{model}”的模型；请检查 --remote-model 和 --api-base。"
    ),
    "{backend.title} is rate-limiting this demo; wait a moment and send again.": (
        "{backend.title} 正在限制本演示的请求频率；请稍等片刻再发送。"
    ),
    "{backend.title} failed with a server error (HTTP {status}); try again shortly.": (
        "{backend.title} 出现服务器错误（HTTP {status}）；请稍后再试。"
    ),
    "{backend.title} refused the request (HTTP {status}): {detail}": (
        "{backend.title} 拒绝了该请求（HTTP {status}）：{detail}"
    ),
    "{backend.title} takes text plus only one kind of media per message; "
    "send the audio, image and video in separate messages.": (
        "{backend.title} 每条消息只接受文字加一种媒体；请把音频、图片和视频分开发送。"
    ),
    "“{name}” is {size / MB} MB; {backend.title} accepts files of up to {backend.max_inline_mb} MB, "
    "so choose a smaller or shorter file.": (
        "“{name}”有 {size / MB} MB；{backend.title} 只接受不超过 {backend.max_inline_mb} MB 的文件，"
        "请选择更小或更短的文件。"
    ),
}

# Phrases that appear inside the sentences above (the values of their fields), and the parts of a
# case's "upstream settings" line (`Case.settings_line`, joined with " · ").
FRAGMENTS: dict[str, str] = {
    # media.py: what a file is
    "audio": "音频",
    "an image": "图片",
    "a video": "视频",
    "audio clip": "音频片段",
    "video": "视频",
    "image": "图片",
    "wav or mp3": "wav 或 mp3",
    "attach audio (wav, mp3, flac, ogg, m4a), an image (png, jpg, webp, gif) "
    "or a video (mp4, mov, webm, mkv)": (
        "请添加音频（wav、mp3、flac、ogg、m4a）、图片（png、jpg、webp、gif）或视频（mp4、mov、webm、mkv）"
    ),
    # cookbook.py: what a case needs
    "an audio clip": "一段音频",
    "a video or an audio clip": "一段视频或一段音频",
    # conversation.py
    "turn": "轮",
    "turns": "轮",
    # cookbook.py: Case.settings_line
    "greedy decoding": "贪心解码",
    "sampled decoding (temperature 0.6, top-p 0.95)": "采样解码（temperature 0.6，top-p 0.95）",
    "no prompt, no system prompt, one clip (30 s or less recommended)": (
        "无提示词、无系统提示词，一段音频（建议不超过 30 秒）"
    ),
    "the tools written into the system prompt": "工具写入系统提示词",
    "optional persona system prompt": "可选的角色系统提示词",
    "voice-assistant system prompt": "语音助手系统提示词",
    "a system prompt": "有系统提示词",
    "no system prompt": "无系统提示词",
    "audio in video on": "视频中的音频：开",
    "audio in video off": "视频中的音频：关",
    "spoken answer": "语音回答",
    "text answer": "文字回答",
    "text, picture, text": "文字、图片、文字",
    "a video or a spoken request": "视频或单独的语音请求",
    "greedy speech codes": "语音编码贪心解码",
    # case titles, as kind_note names them
    **{case.title: CASE_TEXT[case.id][0] for case in CASES},
}
