# One image for every role; the command picks it (see fly.toml [processes]).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md wsgi.py ./
COPY quota_sentinel ./quota_sentinel
COPY workers ./workers
RUN pip install --no-cache-dir .
EXPOSE 7878
# Without REDIS_URL this runs everything in one container with the embedded Redis under /data.
ENV QUOTA_SENTINEL_HOST=0.0.0.0 QUOTA_SENTINEL_DATA_DIR=/data
CMD ["quota-sentinel", "start"]
