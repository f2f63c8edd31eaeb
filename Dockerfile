FROM python:3.11-slim

RUN useradd --create-home --uid 10001 amobridge \
    && mkdir /data && chown amobridge /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY integrations ./integrations
COPY scheduler ./scheduler
COPY sandbox ./sandbox
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER amobridge
ENV AMOBRIDGE_STORE_URL=sqlite:////data/amobridge.db \
    AMOBRIDGE_HTTP__HOST=0.0.0.0 \
    AMOBRIDGE_HTTP__PORT=8080 \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8080
# Liveness on the port the service really listens on (AMOBRIDGE_HTTP__PORT may move it).
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AMOBRIDGE_HTTP__PORT', '8080'), timeout=4)"
ENTRYPOINT ["amobridge"]
CMD ["run"]
