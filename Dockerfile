# syntax=docker/dockerfile:1
# One image for every Minsheng service; docker-compose.yml chooses the console script
# (minsheng-appeals, minsheng-analytics, minsheng-platform topics, ...) with `command`.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
# The same uv that wrote uv.lock (see UV_VERSION in the Makefile).
RUN pip install uv==0.13.8
WORKDIR /app
# Third-party dependencies first, so this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
# Then the project itself. It is installed editable on purpose: the code finds
# deploy/kafka/topics and its migrations relative to the source tree in /app.
COPY libs/ libs/
COPY services/ services/
COPY deploy/ deploy/
COPY contracts/ contracts/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM ${PYTHON_IMAGE}
# /data is writable by the service user; a named volume mounted there inherits that.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home minsheng \
    && install -d -o minsheng -g minsheng /data
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MINSHENG_HTTP_HOST=0.0.0.0 \
    MINSHENG_DATA_DIR=/data
WORKDIR /app
USER minsheng
EXPOSE 8001 8002 8003 8004
CMD ["minsheng-appeals"]
