#!/bin/sh
# One-shot job of docker-compose.yml, run in temporalio/admin-tools once the Temporal server is
# healthy: creates the project's namespace, with its retention, when it does not exist yet. On an
# existing namespace the retention is left to temporal-setup, which sets it at every start, so a
# changed TEMPORAL_NAMESPACE_RETENTION reaches an existing volume too. Both read the value from the
# one place docker-compose.yml sets it.
#
# The temporal CLI reads TEMPORAL_ADDRESS from the environment.
set -eu

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" > /dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION" \
    --description "Interbank transfers (docker-compose.yml)"
  echo "namespace $TEMPORAL_NAMESPACE created with retention $TEMPORAL_NAMESPACE_RETENTION"
fi
