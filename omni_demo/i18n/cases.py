"""Chinese names and descriptions of the cookbook cases, categories, personas, presets and languages.

The English lives with the data (`omni_demo.cookbook`, `omni_demo.presets`); these tables are keyed by
the data's stable ids (case id, category, English display name). Prompts are not here: they go to the
model as upstream wrote them.
"""

from __future__ import annotations

CASE_TEXT: dict[str, tuple[str, str]] = {  # case id -> (title, description)
    "speech-recognition": (
        "语音识别",
        "支持 19 种语言的语音识别，包括长音频。选择语言即可得到对应的官方评测提示词；唱歌请打开歌词模式。",
    ),
    "speech-translation": (
        "语音翻译",
        "把 19 种口语中的任意一种翻译成文字。勾选“朗读回答”还能听到译文（语音到语音）。",
    ),
    "music-analysis": ("音乐分析", "对任意音乐进行详细分析与赏析：风格、流派、节奏、乐器与情绪。"),
    "sound-analysis": (
        "声音分析",
        "描述并分析音效和音频信号：发生了什么、是什么发出的声音、在哪里录制的。",
    ),
    "audio-caption": ("音频描述", "详细描述任意音频：语音、音乐、声音以及它们暗示的场景。"),
    "mixed-audio-analysis": ("混合音频分析", "分析混合了语音、音乐和环境声的音频。"),
    "ocr": ("文字识别（OCR）", "读取复杂图片中的文字：文档、收据、标牌。"),
    "object-grounding": (
        "目标定位",
        "找到物体并以框作答，框和标签会画在图片上。修改“Locate the object:”后面的物体名称即可换一个目标。",
    ),
    "image-question": ("图片问答", "回答关于图片的任何问题。"),
    "image-math": (
        "图片数学题",
        "解答图片中的数学题，这是 Thinking 模型的拿手好戏：推理过程折叠在最终答案上方。"
        "上游的两道题都是题干在图片上方、选项在图片下方；图片是本项目按题意自己绘制的。",
    ),
    "video-description": ("视频描述", "详细描述视频中的内容。"),
    "video-navigation": ("视频导航", "根据在某处行走的第一人称视频给出导航方向。"),
    "video-scene-transition": ("视频场景转换", "视频中的场景如何一个接一个地变化。"),
    "audio-visual-question": (
        "音视频问答",
        "关于同时看到和听到的内容、以及它们时间先后的问题：谁在何时说了什么。",
    ),
    "audio-visual-interaction": (
        "音视频交互",
        "问题是说出来的：在视频里，或者单独一段录音；没有文字提示词。选择一个角色来改变模型的回答方式。",
    ),
    "audio-visual-dialogue": (
        "音视频对话",
        "与视频助手轻松语音聊天，使用 README 推荐的语音助手系统提示词。"
        "用摄像头录下自己，或只录声音，即可与它对话。",
    ),
    "audio-function-call": (
        "音频函数调用",
        "把口头请求变成函数调用。下方的工具会按 Qwen3 对话模板的写法写入系统提示词；每个调用以 JSON 显示。",
    ),
    "omni-captioner": (
        "全能描述（Omni Captioner）",
        "Qwen3-Omni-30B-A3B-Captioner 由 Instruct 模型微调而来，可为任意音频写出详细、低幻觉的描述。"
        "它只接受一段音频，不接受提示词；建议音频不超过 30 秒（更长的也可以，结果会附上提示）。",
    ),
}

CATEGORY_TEXT: dict[str, str] = {
    "Audio": "音频",
    "Visual": "视觉",
    "Audio-Visual": "音视频",
    "Agent": "智能体",
    "Captioner": "Captioner",
}

# Display names of the system-prompt presets (chat tab) and personas (Audio-Visual Interaction).
PRESET_TEXT: dict[str, str] = {
    "None (benchmark setting)": "无（评测设置）",
    "Voice assistant (recommended for spoken chat)": "语音助手（推荐用于语音聊天）",
    "None": "无",
    "Romantic poet": "浪漫诗人",
    "Beijing grandpa (北京大爷)": "北京大爷",
}

# Display names of the cookbook prompt presets (the prompt itself is sent as upstream wrote it).
PROMPT_PRESET_TEXT: dict[str, str] = {
    "Style, rhythm and instruments": "风格、节奏与乐器",
    "Which style? (Chinese)": "是什么风格？（中文提问）",
    "Appreciation": "音乐赏析",
    "What happened?": "发生了什么？",
    "What is this sound?": "这是什么声音？",
    "Guess where I am?": "猜猜我在哪里？",
    "Detailed description": "详细描述",
    "Detailed description, asked politely": "详细描述（礼貌请求）",
    "Thorough description": "全面描述",
    "Sound effects and instruments": "音效与乐器",
    "Speaker and sound effects (Chinese)": "说话人与音效（中文提问）",
    "Extract the text": "提取文字",
    "Extract the text (Chinese)": "提取文字（中文提问）",
    "A bird": "一只鸟",
    "A motorcyclist wearing a helmet": "戴头盔骑摩托车的人",
    "Image style": "图片风格",
    "What happens next?": "接下来会发生什么？",
    "Picture pattern puzzle": "图形规律题",
    "The boy's first sentence": "男孩说的第一句话",
    "Multiple choice: a scene's purpose": "选择题：画面的叙事作用",
    "Lawn sprinkler (multiple choice)": "草坪洒水器（选择题）",
    "Cost function J(0) (multiple choice)": "代价函数 J(0)（选择题）",
}

# Language names in the speech-recognition and translation pickers (the prompt keeps the English name).
LANGUAGE_TEXT: dict[str, str] = {
    "English": "英语",
    "Chinese": "中文",
    "Korean": "韩语",
    "Japanese": "日语",
    "German": "德语",
    "Russian": "俄语",
    "Italian": "意大利语",
    "French": "法语",
    "Spanish": "西班牙语",
    "Portuguese": "葡萄牙语",
    "Malay": "马来语",
    "Dutch": "荷兰语",
    "Indonesian": "印尼语",
    "Turkish": "土耳其语",
    "Vietnamese": "越南语",
    "Cantonese": "粤语",
    "Arabic": "阿拉伯语",
    "Urdu": "乌尔都语",
    "Thai": "泰语",
    "Hindi": "印地语",
    "Bengali": "孟加拉语",
    "Persian": "波斯语",
    "Polish": "波兰语",
    "Ukrainian": "乌克兰语",
    "Czech": "捷克语",
    "Romanian": "罗马尼亚语",
    "Hungarian": "匈牙利语",
    "Greek": "希腊语",
    "Swedish": "瑞典语",
    "Danish": "丹麦语",
    "Norwegian": "挪威语",
    "Finnish": "芬兰语",
    "Hebrew": "希伯来语",
    "Filipino": "菲律宾语",
    "Swahili": "斯瓦希里语",
}
