# The OrderGraph app image used by docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY api api
COPY schema schema
COPY resolvers resolvers
COPY models models
COPY domain domain
COPY adapters adapters
COPY events events
COPY public_tracking public_tracking
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
CMD ["ordergraph", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
