#!/bin/sh
# Entrypoint of the four Temporal services of docker-compose.yml (temporalio/server), one argument:
# frontend, history, matching or worker. They run with infra/temporal/config/cluster.yaml (mounted
# at /etc/temporal/project-config), the configuration the launcher's cluster profile runs. That file
# reads its addresses and secrets from the environment: the database password comes from the
# Compose secret, so it is in no compose file, .env file or `docker inspect` output, only in the
# server process's own environment; the membership address is the container's own.
set -eu
TEMPORAL_DB_PASSWORD="$(cat /run/secrets/temporal-db-password)"
TEMPORAL_BROADCAST_ADDRESS="$(hostname -i | awk '{print $1}')"
export TEMPORAL_DB_PASSWORD TEMPORAL_BROADCAST_ADDRESS
exec temporal-server --root / --config etc/temporal/project-config --env cluster --allow-no-auth start --service "$1"
