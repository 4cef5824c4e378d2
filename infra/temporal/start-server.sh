#!/bin/sh
# Entrypoint of the temporal service of docker-compose.yml (temporalio/server). The image renders
# its configuration from environment variables, and its template takes the database password from
# POSTGRES_PWD only: there is no file variant. This reads it from the Compose secret and hands over
# to the image's own entrypoint, so the password is in no compose file, .env file or
# `docker inspect` output, only in the server process's own environment.
set -eu
POSTGRES_PWD="$(cat /run/secrets/temporal-db-password)"
export POSTGRES_PWD
exec /etc/temporal/entrypoint.sh "$@"
