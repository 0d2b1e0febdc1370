# nl2sql in a container, installed the way the README installs it.
#   docker build -t nl2sql .
#   docker run --rm -v "$PWD:/data" -w /data nl2sql ask "Revenue by category in 2025"
FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV NL2SQL_HOME=/var/lib/nl2sql
ENTRYPOINT ["nl2sql"]
CMD ["--help"]
