"""Every sentence the model side shows to users, by key: (English template, Chinese template).

Code raises `OmniError("media.too_short", name=...)` or makes `Sentence("notice.media_dropped", ...)`;
the English template is the text tests, logs and the API see, and the page renders the sentence in
its own language at the one boundary where errors become what the user reads. A field may hold another
`Sentence` (a phrase such as "an image"), which is rendered in the same language. The Chinese template
uses only the English template's fields; `tests/unit/test_i18n.py` checks every key and every place
that makes a sentence.
"""

from __future__ import annotations

SENTENCES: dict[str, tuple[str, str]] = {
    # ----------------------------------------------------------------------------- conversation
    "input.empty": ("Type a message or attach a file before sending.", "请先输入消息或添加文件，再发送。"),
    "input.captioner_one_clip": (
        "The Captioner takes exactly one audio clip and nothing else: attach one audio file, no text.",
        "Captioner 模型只接受一段音频，不接受其他内容：请添加一个音频文件，不要输入文字。",
    ),
    "notice.media_dropped": (
        "The media of {dropped} older {turns} was left out to keep the conversation within memory.",
        "为使对话不超出内存，较早的 {dropped} 轮对话中的媒体已被省略。",
    ),
    "word.turn": ("turn", "轮"),
    "word.turns": ("turns", "轮"),
    # ------------------------------------------------------------------------------------ media
    "media.no_extension": (
        "“{name}” has no file extension, so its type is unknown; {hint}.",
        "“{name}”没有文件扩展名，无法判断其类型；{hint}。",
    ),
    "media.unsupported_type": (
        "“{name}” can't be used because files of type {ext} aren't supported; {hint}.",
        "无法使用“{name}”：不支持 {ext} 类型的文件；{hint}。",
    ),
    "media.supported": (
        "attach audio (wav, mp3, flac, ogg, m4a), an image (png, jpg, webp, gif) "
        "or a video (mp4, mov, webm, mkv)",
        "请添加音频（wav、mp3、flac、ogg、m4a）、图片（png、jpg、webp、gif）或视频（mp4、mov、webm、mkv）",
    ),
    "media.wrong_kind": (
        "“{name}” is {actual} file but was sent as {sent}; attach it as {actual} or choose a different file.",
        "“{name}”是{actual}文件，却被当作{sent}发送；请将其作为{actual}添加，或换一个文件。",
    ),
    "media.no_sound": (
        "“{name}” contains no sound; choose an audio file or record again.",
        "“{name}”没有声音；请选择一个音频文件，或重新录音。",
    ),
    "media.video_no_sound": (
        "The video “{name}” has no sound track; turn off “audio in video” or choose a video with sound.",
        "视频“{name}”没有音轨；请关闭“视频中的音频”，或选择一个有声音的视频。",
    ),
    "media.audio_slow": (
        "“{name}” took too long to read; convert it to a common format and try again.",
        "读取“{name}”耗时过长；请转换为常见格式后重试。",
    ),
    "media.audio_undecodable": (
        "“{name}” could not be decoded as audio; check the file or convert it to wav or mp3.",
        "无法将“{name}”解码为音频；请检查文件，或转换为 wav 或 mp3。",
    ),
    "media.too_short": (
        "“{name}” is too short to hear anything; record or choose a longer clip.",
        "“{name}”太短，听不到任何内容；请录制或选择更长的片段。",
    ),
    "media.too_long": (
        "The {what} “{name}” is longer than the {limit} s limit — trim it and try again.",
        "{what}“{name}”超过了 {limit} 秒的时长上限——请剪短后重试。",
    ),
    "media.too_long_by": (
        "The {what} “{name}” is {length} s long; the limit is {limit} s — trim it and try again.",
        "{what}“{name}”时长 {length} 秒，上限为 {limit} 秒——请剪短后重试。",
    ),
    "media.no_picture": (
        "“{name}” contains no video picture; choose a video file (mp4, mov, webm).",
        "“{name}”没有视频画面；请选择一个视频文件（mp4、mov、webm）。",
    ),
    "media.not_video": (
        "“{name}” could not be read as a video; check the file or convert it to mp4.",
        "无法将“{name}”读取为视频；请检查文件，或转换为 mp4。",
    ),
    "media.video_slow": (
        "“{name}” took too long to read; convert it to mp4 and try again.",
        "读取“{name}”耗时过长；请转换为 mp4 后重试。",
    ),
    "media.video_undecodable": (
        "“{name}” could not be decoded as a video; check the file or convert it to mp4.",
        "无法将“{name}”解码为视频；请检查文件，或转换为 mp4。",
    ),
    "media.too_few_frames": (
        "The video “{name}” has fewer than 2 frames; choose a longer video.",
        "视频“{name}”不足 2 帧；请选择更长的视频。",
    ),
    "media.not_image": (
        "“{name}” is not an image we can read; choose a png, jpg or webp file.",
        "无法读取图片“{name}”；请选择 png、jpg 或 webp 文件。",
    ),
    "media.image_damaged": (
        "“{name}” is damaged or incomplete; export it again or choose another image.",
        "“{name}”已损坏或不完整；请重新导出，或选择另一张图片。",
    ),
    "media.too_thin": (
        "“{name}” is {width} × {height} pixels, too long and thin to use; crop it and try again.",
        "“{name}”为 {width} × {height} 像素，过于细长，无法使用；请裁剪后重试。",
    ),
    "media.image_too_big": (
        "The image “{name}” is too large (the limit is {limit} megapixels); shrink it and try again.",
        "图片“{name}”太大（上限为 {limit} 百万像素）；请缩小后重试。",
    ),
    "media.image_too_big_by": (
        "The image “{name}” is {width} × {height} pixels, over the {limit} megapixel limit; "
        "shrink it and try again.",
        "图片“{name}”为 {width} × {height} 像素，超过了 {limit} 百万像素的上限；请缩小后重试。",
    ),
    "media.not_found": (
        "The {what} “{name}” was not found; attach it again.",
        "找不到{what}“{name}”；请重新添加。",
    ),
    "media.empty_file": (
        "The {what} “{name}” is empty; attach the file again or choose another one.",
        "{what}“{name}”是空文件；请重新添加，或选择另一个文件。",
    ),
    "media.unreadable": (
        "“{name}” could not be read as {as_what}; check the file or convert it to {fix}.",
        "无法将“{name}”读取为{as_what}；请检查文件，或转换为 {fix}。",
    ),
    "media.damaged": (
        "“{name}” is damaged and could not be fully read; check the file or choose another.",
        "“{name}”已损坏，无法完整读取；请检查文件，或选择另一个。",
    ),
    # What a file is, inside the sentences above and the cookbook's.
    "word.audio": ("audio", "音频"),
    "word.an_image": ("an image", "图片"),
    "word.a_video": ("a video", "视频"),
    "word.audio_clip": ("audio clip", "音频片段"),
    "word.video": ("video", "视频"),
    "word.image": ("image", "图片"),
    "word.wav_or_mp3": ("wav or mp3", "wav 或 mp3"),
    "word.mp4": ("mp4", "mp4"),
    "word.an_audio_clip": ("an audio clip", "一段音频"),
    "word.video_or_audio_clip": ("a video or an audio clip", "一段视频或一段音频"),
    # ---------------------------------------------------------------------------------- answers
    "boxes.empty": ("The answer was empty, so there are no boxes to draw.", "回答为空，没有可绘制的框。"),
    "boxes.unreadable": (
        "The answer did not contain readable box coordinates, so the raw answer is shown.",
        "回答中没有可读取的框坐标，因此显示原始回答。",
    ),
    "boxes.one_skipped": (
        "{skipped} of the {mentioned} boxes in the answer could not be read and was skipped.",
        "回答中的 {mentioned} 个框里有 {skipped} 个无法读取，已跳过。",
    ),
    "boxes.skipped": (
        "{skipped} of the {mentioned} boxes in the answer could not be read and were skipped.",
        "回答中的 {mentioned} 个框里有 {skipped} 个无法读取，已跳过。",
    ),
    "tools.empty": (
        "The tool list is empty; paste a JSON list of tools or reset it to the default.",
        "工具列表为空；请粘贴一个 JSON 工具列表，或恢复为默认列表。",
    ),
    "tools.bad_json": (
        "The tool list is not valid JSON ({reason} at line {line}, column {column}).",
        "工具列表不是有效的 JSON（第 {line} 行第 {column} 列：{reason}）。",
    ),
    "tools.too_deep": ("The tool list is nested too deeply to read.", "工具列表嵌套过深，无法读取。"),
    "tools.no_template": (
        "The loaded model's chat template does not write tools into the prompt, so it can't call "
        "functions; start the demo with a Qwen3-Omni checkpoint.",
        "当前模型的对话模板不会把工具写入提示词，因此无法调用函数；请用 Qwen3-Omni 的模型启动演示。",
    ),
    "tools.not_list": (
        "The tool list must be a JSON list, written [ ... ], of tool objects.",
        "工具列表必须是由工具对象组成的 JSON 列表，写作 [ ... ]。",
    ),
    "tools.not_object": (
        "Tool {number} is not a JSON object; write each tool as {{...}}.",
        "第 {number} 个工具不是 JSON 对象；请将每个工具写作 {{...}}。",
    ),
    "tools.function_not_object": (
        'Tool {number} has a "function" that is not a JSON object.',
        '第 {number} 个工具的 "function" 不是 JSON 对象。',
    ),
    "tools.no_name": (
        'Tool {number} has no function name; give it a "name".',
        '第 {number} 个工具没有函数名；请给它一个 "name"。',
    ),
    "tools.bad_parameters": (
        'The "parameters" of tool "{name}" must be a JSON object.',
        '工具 "{name}" 的 "parameters" 必须是 JSON 对象。',
    ),
    "tools.same_name": (
        'Two tools are named "{name}"; give each tool its own name.',
        '有两个工具都叫 "{name}"；请给每个工具起不同的名字。',
    ),
    "calls.cut_off": (
        "The last tool call was cut off before it finished, so it is shown as raw text.",
        "最后一个工具调用在完成前被截断，因此以原始文本显示。",
    ),
    "calls.one_unread": (
        "One tool call could not be read as JSON, so it is shown as raw text.",
        "有一个工具调用无法按 JSON 读取，因此以原始文本显示。",
    ),
    "calls.unread": (
        "{unread} tool calls could not be read as JSON, so they are shown as raw text.",
        "有 {unread} 个工具调用无法按 JSON 读取，因此以原始文本显示。",
    ),
    # --------------------------------------------------------------------------------- cookbook
    "case.add_input": ("Add {what} first, or press “Load example”.", "请先添加{what}，或按“加载示例”。"),
    "case.boxes_failed": ("The boxes could not be drawn: {error}", "无法绘制框：{error}"),
    "case.start_with": ("start the demo with --model {checkpoint}", "请用 --model {checkpoint} 启动演示"),
    "case.start_with_preview": (
        "start the demo with --model {checkpoint} (or --model {preview} for the CPU preview)",
        "请用 --model {checkpoint} 启动演示（CPU 预览请用 --model {preview}）",
    ),
    "case.needs_captioner": (
        "This case needs the Captioner model: {start}. "
        "With the {loaded} model loaded, use Audio Caption in the Audio tab instead.",
        "此用例需要 Captioner 模型：{start}。当前加载的是 {loaded} 模型，请改用“音频”标签页中的“音频描述”。",
    ),
    "case.captioner_loaded": (
        "The Captioner model loaded takes one audio clip and no prompt, so it can't run this case: "
        "{start}, or use the Captioner tab.",
        "当前加载的 Captioner 模型只接受一段音频、不接受提示词，无法运行此用例："
        "{start}，或使用 Captioner 标签页。",
    ),
    "case.made_for_thinking": (
        "{title} is made for the Thinking model, which shows its reasoning step by step: {start}. "
        "The {loaded} model loaded runs it too, answering without the reasoning.",
        "“{title}”专为 Thinking 模型设计，它会逐步展示推理过程：{start}。"
        "当前加载的 {loaded} 模型也能运行，但不展示推理过程。",
    ),
    "case.no_voice": (
        "The {loaded} model has no voice, so this case answers in text only; to hear it, {start}.",
        "{loaded} 模型不能说话，此用例只以文字回答；如需听到回答，{start}。",
    ),
    # The parts of a case's "upstream settings" line (`Case.settings`).
    "settings.greedy": ("greedy decoding", "贪心解码"),
    "settings.sampled": (
        "sampled decoding (temperature 0.6, top-p 0.95)",
        "采样解码（temperature 0.6，top-p 0.95）",
    ),
    "settings.captioner": (
        "no prompt, no system prompt, one clip (30 s or less recommended)",
        "无提示词、无系统提示词，一段音频（建议不超过 30 秒）",
    ),
    "settings.tools": ("the tools written into the system prompt", "工具写入系统提示词"),
    "settings.persona": ("optional persona system prompt", "可选的角色系统提示词"),
    "settings.voice_assistant": ("voice-assistant system prompt", "语音助手系统提示词"),
    "settings.system": ("a system prompt", "有系统提示词"),
    "settings.no_system": ("no system prompt", "无系统提示词"),
    "settings.aiv_on": ("audio in video on", "视频中的音频：开"),
    "settings.aiv_off": ("audio in video off", "视频中的音频：关"),
    "settings.spoken": ("spoken answer", "语音回答"),
    "settings.text": ("text answer", "文字回答"),
    "settings.text_picture_text": ("text, picture, text", "文字、图片、文字"),
    "settings.video_or_spoken": ("a video or a spoken request", "视频或单独的语音请求"),
    "settings.greedy_codes": ("greedy speech codes", "语音编码贪心解码"),
    # ------------------------------------------------------------------ feedback and transcripts
    "feedback.disk_full": (
        "Your feedback could not be saved because the server's disk is full; the chat goes on as before.",
        "服务器磁盘已满，无法保存你的反馈；对话不受影响。",
    ),
    "feedback.unwritable": (
        "Your feedback could not be saved because the feedback folder can't be written; "
        "the chat goes on as before.",
        "反馈文件夹无法写入，无法保存你的反馈；对话不受影响。",
    ),
    "transcript.nothing": (
        "There is nothing to download yet; send a message first.",
        "还没有可下载的内容；请先发送一条消息。",
    ),
    "transcript.unreadable": (
        "“{name}” could not be read as a saved conversation; choose the zip or json that "
        "“Download the conversation” made.",
        "无法将“{name}”读取为保存的对话；请选择由“下载对话”生成的 zip 或 json。",
    ),
    "transcript.not_ours": (
        "“{name}” is not a conversation saved by this demo; choose the zip or json that "
        "“Download the conversation” made.",
        "“{name}”不是本演示保存的对话；请选择由“下载对话”生成的 zip 或 json。",
    ),
    "transcript.newer": (
        "“{name}” was saved by a newer version of this demo; update the demo to load it.",
        "“{name}”由更新版本的演示保存；请更新演示后再载入。",
    ),
    "transcript.too_big": (
        "“{name}” unpacks to more than 4 GiB; load a smaller conversation.",
        "“{name}”解压后超过 4 GiB；请载入更小的对话。",
    ),
    "transcript.empty": ("“{name}” holds no conversation to load.", "“{name}”中没有可载入的对话。"),
    "transcript.one_missing": (
        "One attached file was not in “{name}”, so it was left out; load the zip to bring it back.",
        "“{name}”中缺少 1 个附件，已省略；载入 zip 文件即可找回。",
    ),
    "transcript.missing": (
        "{missing} attached files were not in “{name}”, so they were left out; "
        "load the zip to bring them back.",
        "“{name}”中缺少 {missing} 个附件，已省略；载入 zip 文件即可找回。",
    ),
    # ----------------------------------------------------------------------------------- engine
    "engine.no_voice": (
        "The voice “{voice}” does not exist for this model; choose one of {names}.",
        "此模型没有“{voice}”这个音色；请从 {names} 中选择。",
    ),
    "engine.unreadable_file": (
        "The model could not read one of the attached files; try another file.",
        "模型无法读取其中一个附件；请换一个文件。",
    ),
    "engine.out_of_memory": (
        "The GPU ran out of memory for this request; send shorter or fewer clips, smaller images "
        "or videos, ask for fewer new tokens or no speech, or clear the chat to drop older media.",
        "此请求使 GPU 显存不足；请发送更短或更少的片段、更小的图片或视频，减少最大新 token 数或关闭语音，"
        "或清空对话以去掉较早的媒体。",
    ),
    "engine.captioner_long": (
        "The clip is {seconds} s long; the Captioner is made for clips of up to "
        "{limit} s, so its caption may miss details of a longer one.",
        "这段音频长 {seconds} 秒；Captioner 适用于不超过 {limit} 秒的音频，对更长的音频，描述可能遗漏细节。",
    ),
    # The line in front of the GPU (`omni_demo.engine.admission`): what a waiting user is told.
    "queue.next": ("Waiting for the GPU: you're next.", "正在等待 GPU：下一个就轮到你。"),
    "queue.one_ahead": ("Waiting for the GPU: 1 person ahead of you.", "正在等待 GPU：你前面还有 1 人。"),
    "queue.ahead": (
        "Waiting for the GPU: {ahead} people ahead of you.",
        "正在等待 GPU：你前面还有 {ahead} 人。",
    ),
    "queue.full": (
        "Too many people are waiting for the GPU; try again in a minute.",
        "等待 GPU 的人太多了；请过一分钟再试。",
    ),
    "budget.over": (
        "This request needs about {total} input tokens, over this server's limit of {cap}; "
        "use shorter clips, fewer attachments, or press Clear to start over.",
        "此请求约需 {total} 个输入 token，超出了本服务器 {cap} 个的上限；"
        "请使用更短的片段、减少附件，或按“清空”重新开始。",
    ),
    "budget.over_video": (
        "This request needs about {total} input tokens, over this server's limit of {cap}; "
        "a {width}×{height} video may be at most about {seconds} s long here — trim it.",
        "此请求约需 {total} 个输入 token，超出了本服务器 {cap} 个的上限；"
        "在这里，{width}×{height} 的视频最长约 {seconds} 秒——请剪短。",
    ),
    # Start-up: a checkpoint that cannot be loaded (printed on the console, in English).
    "load.unknown_preview": (
        "Unknown preview model “{name}”; use preview, preview-thinking or preview-captioner.",
        "未知的预览模型“{name}”；请使用 preview、preview-thinking 或 preview-captioner。",
    ),
    "load.failed": (
        "Could not load the checkpoint “{source}”: give a Hugging Face id such as {example}, "
        "a local folder with its config.json and weights, or --model preview.",
        "无法加载模型“{source}”：请给出 Hugging Face 模型 id（如 {example}）、"
        "含 config.json 和权重的本地文件夹，或 --model preview。",
    ),
    # ---------------------------------------------------------- engine: remote back-ends (HTTP)
    "remote.malformed": (
        "The {service} server sent a reply this demo cannot read, so the answer stopped there; "
        "check that the server and the --backend flag match.",
        "{service} 服务器发来的回复本演示无法读取，回答已在此处停止；请检查服务器与 --backend 参数是否匹配。",
    ),
    "remote.unreachable": (
        "The {service} server at {url} cannot be reached; "
        "check that it is running and that --api-base is right.",
        "无法连接位于 {url} 的 {service} 服务器；请确认它正在运行，且 --api-base 正确。",
    ),
    "remote.broke": (
        "The connection to {service} broke in the middle of the answer; send again.",
        "与 {service} 的连接在回答中途断开；请重新发送。",
    ),
    "remote.stalled": (
        "{service} sent nothing for {seconds} s, so the answer was stopped; "
        "the server may be overloaded: try again shortly.",
        "{service} 已有 {seconds} 秒没有发送任何内容，回答已停止；服务器可能过载，请稍后再试。",
    ),
    "remote.stream_error": (
        "{service} stopped the answer with an error; try again shortly.",
        "{service} 因出错中止了回答；请稍后再试。",
    ),
    "remote.bad_key": (
        "{service} refused the API key (HTTP {status}); check --api-key or {key_env}.",
        "{service} 拒绝了 API 密钥（HTTP {status}）；请检查 --api-key 或 {key_env}。",
    ),
    "remote.no_such_model": (
        "{service} does not serve a model named “{model}”; check --remote-model and --api-base.",
        "{service} 没有提供名为“{model}”的模型；请检查 --remote-model 和 --api-base。",
    ),
    "remote.rate_limited": (
        "{service} is rate-limiting this demo; wait a moment and send again.",
        "{service} 正在限制本演示的请求频率；请稍等片刻再发送。",
    ),
    "remote.server_error": (
        "{service} failed with a server error (HTTP {status}); try again shortly.",
        "{service} 出现服务器错误（HTTP {status}）；请稍后再试。",
    ),
    "remote.refused": (
        "{service} refused the request (HTTP {status}): {detail}",
        "{service} 拒绝了该请求（HTTP {status}）：{detail}",
    ),
    "remote.one_media_kind": (
        "{service} takes text plus only one kind of media per message; "
        "send the audio, image and video in separate messages.",
        "{service} 每条消息只接受文字加一种媒体；请把音频、图片和视频分开发送。",
    ),
    "remote.file_too_big": (
        "“{name}” is {size} MB; {service} accepts files of up to {limit} MB, "
        "so choose a smaller or shorter file.",
        "“{name}”有 {size} MB；{service} 只接受不超过 {limit} MB 的文件，请选择更小或更短的文件。",
    ),
    "remote.models_refused": (
        "{service} at {url} answered HTTP {status} when asked for its models; "
        "check --api-base and --api-key.",
        "位于 {url} 的 {service} 在查询模型列表时返回了 HTTP {status}；请检查 --api-base 和 --api-key。",
    ),
    "remote.models_unreachable": (
        "Cannot reach {service} at {url}; start the server first or pass --api-base.",
        "无法连接位于 {url} 的 {service}；请先启动服务器，或传入 --api-base。",
    ),
    "remote.needs_key": (
        "DashScope needs an API key: set {key_env} (or pass --api-key) to a Model Studio key.",
        "DashScope 需要 API 密钥：请将 {key_env} 设为 Model Studio 密钥（或传入 --api-key）。",
    ),
    "remote.model_not_served": (
        "{service} at {url} does not serve “{model}”; it serves {names}, "
        "so pass one of them with --remote-model.",
        "位于 {url} 的 {service} 没有提供“{model}”；它提供的是 {names}，请用 --remote-model 选择其中之一。",
    ),
}
