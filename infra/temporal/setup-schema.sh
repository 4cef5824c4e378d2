#!/bin/sh
# One-shot job of docker-compose.yml, run in temporalio/admin-tools before the Temporal server
# starts: creates Temporal's two PostgreSQL databases if they are missing and brings each schema to
# the newest version this admin-tools release ships. Safe to run again: setup-schema leaves a
# database that has a version alone, update-schema applies only the versions not yet applied.
#
# temporal-sql-tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the
# environment; the password comes from the Compose secret, never from the compose file.
set -eu

SQL_PASSWORD="$(cat /run/secrets/temporal-db-password)"
PGPASSWORD="$SQL_PASSWORD"
export SQL_PASSWORD PGPASSWORD

# The versioned schema folders inside the admin-tools image (its release decides the newest version).
schema_root=/etc/temporal/schema/postgresql/v12

database_exists() {
  found="$(psql -h "$SQL_HOST" -p "$SQL_PORT" -U "$SQL_USER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")"
  [ "$found" = 1 ]
}

# prepare_database <database> <schema folder: temporal or visibility>
prepare_database() {
  if database_exists "$1"; then
    echo "database $1 exists"
  else
    temporal-sql-tool --db "$1" create-database
  fi
  temporal-sql-tool --db "$1" setup-schema -v 0.0
  temporal-sql-tool --db "$1" update-schema -d "$schema_root/$2/versioned"
}

prepare_database "$TEMPORAL_DATABASE" temporal
prepare_database "$TEMPORAL_VISIBILITY_DATABASE" visibility
