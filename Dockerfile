FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY providers ./providers
RUN pip install . && useradd --create-home --uid 10001 reelbot && mkdir -p /data && chown reelbot /data
# `reelbot check` compares the token's scopes with the manifest's, found in the working directory.
COPY manifest.yml ./

USER reelbot
ENV PORT=3000 REELBOT_DB=/data/reelbot.db
EXPOSE 3000
# The image has no curl: Python asks /healthz, which answers 503 (urlopen raises) when the
# store, the poller or the socket is not well. Socket Mode may take up to 30 s to connect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=3)"]
CMD ["reelbot", "run"]
