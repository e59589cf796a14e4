# The print server (and, with another command, the printer agent) for docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY manage.py ./
COPY shop shop
COPY orders orders
COPY printing printing
COPY templates templates
COPY locale locale
EXPOSE 5000 8765
CMD ["python", "manage.py", "runprintserver"]
