# syntax=docker/dockerfile:1
# One image for the four services (intake, routing, tracking, notify) and the one-off steps
# (`python -m devstack migrate`, `python -m devstack create-topics`). The compose `command`
# (or the Kubernetes `args`) chooses what a container runs; by default it runs intake.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runs as an unprivileged user; the code and the installed packages stay owned by root,
# so the process cannot modify them.
RUN groupadd --system --gid 10001 mla \
    && useradd --system --uid 10001 --gid mla --create-home --home-dir /home/mla \
       --shell /usr/sbin/nologin mla

WORKDIR /app

# Dependencies first, read from pyproject.toml, so that a change to the source alone does not
# reinstall them (the layer is rebuilt only when pyproject.toml changes). No dev extras.
COPY pyproject.toml README.m[d] ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. The source also stays in /app (the working directory), so that
# `python -m ...` finds non-Python files next to the code (Alembic scripts, reference data).
COPY shared/ shared/
COPY services/ services/
COPY devstack/ devstack/
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

# tracking's signing key lives here (a volume in compose; a secret in a cluster).
RUN mkdir -p /var/lib/mla/keys && chown -R mla:mla /var/lib/mla

USER mla:mla

EXPOSE 8001 8002 8003 8004

# No HEALTHCHECK here: the port depends on the service, so docker-compose.yml (and the
# Kubernetes probes) define it per service, against GET /health/ready.
CMD ["python", "-m", "services.intake"]
