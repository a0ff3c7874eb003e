# supportdesk image: one image, three roles (web, worker, beat) chosen by the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["python", "-m", "supportdesk.serve", "-b", "0.0.0.0", "-p", "8000", \
     "supportdesk.asgi:application"]
