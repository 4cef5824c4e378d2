#!/bin/sh
# Entrypoint of every MongoDB of docker-compose.yml (runs as root in the mongo image, then hands over
# to the image's own entrypoint, which starts mongod as the mongodb user).
#
# mongod refuses a replica-set key file that another user owns or that others may read, and Compose
# (without Swarm) mounts a file secret as the host file, with the host's owner and mode. So the key
# file is copied to a file of mongod's own, mode 0400, at every start; the compose command names
# that copy in --keyFile.
set -eu
install -d -m 0700 -o mongodb -g mongodb /run/mongodb
install -m 0400 -o mongodb -g mongodb /run/secrets/mongodb-keyfile /run/mongodb/keyfile
exec docker-entrypoint.sh "$@"
