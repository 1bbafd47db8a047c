FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduling ./scheduling
COPY storage ./storage
COPY bot ./bot
RUN pip install --no-cache-dir .
RUN useradd --create-home bot && mkdir -p /data && chown bot /data
USER bot
ENV DATABASE_URL=sqlite:////data/interview-bot.db PORT=3000
EXPOSE 3000
CMD ["sh", "-c", "interview-bot migrate && interview-bot run"]
