# GPU image for the Qwen3-Omni demo. Build: docker build -t qwen3-omni-demo .
# Run:   docker run --gpus all -p 7860:7860 -v ~/.cache/huggingface:/home/user/.cache/huggingface qwen3-omni-demo
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# Hugging Face Spaces and good practice: run as a non-root user with uid 1000
# (Ubuntu 24.04 images ship a user "ubuntu" with that uid; replace it).
RUN userdel -r ubuntu 2>/dev/null || true; useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/venv/bin:$PATH \
    HF_HOME=/home/user/.cache/huggingface \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860
WORKDIR /home/user/app

RUN python3 -m venv /home/user/venv
COPY --chown=user requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=user . .

EXPOSE 7860
CMD ["python", "app.py"]
