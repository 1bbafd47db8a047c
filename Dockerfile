FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY scheduling ./scheduling
COPY storage ./storage
COPY bot ./bot
# The lock (constraints.txt, see the README): the image gets the versions CI tested.
RUN pip install --no-cache-dir -c constraints.txt .
RUN useradd --create-home bot && mkdir -p /data && chown bot /data
USER bot
# The SQLite file of the embedded default lives on a volume; set DATABASE_URL for PostgreSQL.
VOLUME /data
ENV DATABASE_URL=sqlite:////data/interview-bot.db PORT=3000 HEALTH_FILE=/tmp/interview-bot.alive
EXPOSE 3000
# Alive in either mode (HTTP, Socket Mode, or `worker`): the job runner reached the database lately.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["interview-bot", "health"]
# exec: the bot replaces the shell as PID 1, so `docker stop`'s SIGTERM reaches it and claimed
# work is finished or handed back instead of waiting out its lease.
CMD ["sh", "-c", "interview-bot migrate && exec interview-bot run"]
