# GPU image for the Qwen3-Omni demo. Build: docker build -t qwen3-omni-demo .
# Run:   docker run --gpus all -p 7860:7860 -v ~/.cache/huggingface:/home/user/.cache/huggingface qwen3-omni-demo
# Python 3.11: the pinned set (requirements.txt) is resolved for it. The CUDA runtime comes with torch's
# own wheels (nvidia-* packages in the pinned set); the host needs only the NVIDIA driver.
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# Hugging Face Spaces and good practice: run as a non-root user with uid 1000.
RUN useradd -m -u 1000 user
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
