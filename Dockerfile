# Volunteer Loop: the bot in webhook mode (compose.yaml runs it beside PostgreSQL; docs/operations.md).
# Two stages: the build stage makes the wheels (with the exact versions of constraints.txt), the runtime
# stage installs them into a slim image and runs as an unprivileged user.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VLOOP_CONFIG=/etc/volunteer-loop/config.toml \
    VLOOP_HEALTH__LISTEN=0.0.0.0 \
    VLOOP_HEALTH__PORT=9090 \
    VLOOP_WEBHOOK__LISTEN=0.0.0.0 \
    VLOOP_WEBHOOK__PORT=8443
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels volunteer-loop==0.1.0 \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/volunteer-loop --create-home volunteer-loop \
    && mkdir -p /etc/volunteer-loop && touch /etc/volunteer-loop/config.toml
USER 10001
WORKDIR /var/lib/volunteer-loop
EXPOSE 8443 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4)"]
ENTRYPOINT ["volunteer-loop"]
CMD ["run", "--webhook"]
