#!/bin/sh
# Entrypoint of the temporal-ui service of docker-compose.yml (temporalio/ui). The Web UI decodes
# payloads in the browser through the codec server, whose token is the endpoint's first path
# segment. The UI reads its codec endpoint from TEMPORAL_CODEC_ENDPOINT only, so the endpoint is
# put together here from the published base URL and the codec server's token secret, then the
# image's own start script runs (from the image's working directory, /home/ui-server).
set -eu
token="$(cat /run/secrets/codec-server-token)"
TEMPORAL_CODEC_ENDPOINT="${CODEC_ENDPOINT_BASE_URL}/${token}"
export TEMPORAL_CODEC_ENDPOINT
exec ./start-ui-server.sh "$@"
