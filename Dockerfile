# syntax=docker/dockerfile:1
# Member Space: one image per service, each with only its own code and dependency set.
#
#   docker build --target auth -t memberspace/auth:<version> .
#   (targets: auth, notifications, benefits, documents, pension, gateway)
#
# Every image runs the kit's runner (`python -m services.kit.runner <module>:<Class>`) as
# a non-root user (uid 10001); the same image runs its migrations
# (`python -m services.kit.migrate <service>`) and its health probe
# (`python -m services.kit.health <service>`). SIGTERM stops a service gracefully:
# it stops taking work and lets running workers finish; give it 30 s before SIGKILL
# (Kubernetes: terminationGracePeriodSeconds 40, see deploy/README.md).
# The dependency sets (deploy/requirements/<service>.txt) come from requirements.lock
# through `make requirements`; setuptools<81 is in each (nameko imports pkg_resources).

FROM python:3.11.14-slim-bookworm AS python
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 memberspace \
    && useradd --system --uid 10001 --gid memberspace --no-create-home \
       --home-dir /app --shell /usr/sbin/nologin memberspace
WORKDIR /app

# The repository's code, once; each service's stage takes only its own part of it.
FROM python AS source
COPY services /src/services
COPY gateway /src/gateway
# the contracts package every service and the gateway import (empty until it exists)
RUN mkdir -p /src/services/contracts

# The member web app's assets, built into the gateway's image (served under gateway/web/).
FROM node:20.19.5-bookworm-slim AS webapp
WORKDIR /build/webapp
COPY webapp/package.json webapp/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY webapp/ ./
RUN npm run build

# ---- auth ----
FROM python AS auth-venv
COPY deploy/requirements/auth.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS auth
COPY --from=auth-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/services/auth /app/services/auth
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["services.auth.service:AuthService"]

# ---- notifications ----
FROM python AS notifications-venv
COPY deploy/requirements/notifications.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS notifications
COPY --from=notifications-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/services/notifications /app/services/notifications
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["services.notifications.service:NotificationsService"]

# ---- benefits ----
FROM python AS benefits-venv
COPY deploy/requirements/benefits.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS benefits
COPY --from=benefits-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/services/benefits /app/services/benefits
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["services.benefits.service:BenefitsService"]

# ---- documents ----
FROM python AS documents-venv
COPY deploy/requirements/documents.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS documents
COPY --from=documents-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/services/documents /app/services/documents
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["services.documents.service:DocumentsService"]

# ---- pension ----
FROM python AS pension-venv
COPY deploy/requirements/pension.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS pension
COPY --from=pension-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/services/pension /app/services/pension
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["services.pension.service:PensionService"]

# ---- gateway ----
FROM python AS gateway-venv
COPY deploy/requirements/gateway.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --no-deps -r /tmp/requirements.txt \
    && pip check

FROM python AS gateway
COPY --from=gateway-venv /opt/venv /opt/venv
COPY --from=source /src/services/__init__.py /app/services/__init__.py
COPY --from=source /src/services/kit /app/services/kit
COPY --from=source /src/services/contracts /app/services/contracts
COPY --from=source /src/gateway /app/gateway
COPY --from=webapp /build/gateway/web /app/gateway/web
USER 10001:10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "services.kit.runner"]
CMD ["gateway.service:GatewayService"]
