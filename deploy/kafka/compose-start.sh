#!/usr/bin/env bash
# The apache/kafka image's start (/etc/kafka/docker/run), with one step before it: the
# first time, the storage is formatted with the SCRAM-SHA-512 credentials of
# MINSHENG_KAFKA_SCRAM_USERS ("name:password" pairs separated by spaces). A KRaft broker
# that authenticates every client takes its first credentials only this way; the image's
# own format step then finds the storage formatted and goes on. Users added later
# (outside systems) go through the Admin API: `minsheng-platform outside-system NAME`.
set -euo pipefail

data="${KAFKA_LOG_DIRS:?}"
if [[ ! -f "$data/meta.properties" ]]; then
  config="$(mktemp)"
  # what formatting reads: the node, its roles, its quorum and its listeners
  cat > "$config" <<PROPERTIES
process.roles=${KAFKA_PROCESS_ROLES:?}
node.id=${KAFKA_NODE_ID:?}
controller.quorum.voters=${KAFKA_CONTROLLER_QUORUM_VOTERS:?}
controller.listener.names=${KAFKA_CONTROLLER_LISTENER_NAMES:?}
listeners=${KAFKA_LISTENERS:?}
listener.security.protocol.map=${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:?}
inter.broker.listener.name=${KAFKA_INTER_BROKER_LISTENER_NAME:?}
sasl.enabled.mechanisms=${KAFKA_SASL_ENABLED_MECHANISMS:?}
sasl.mechanism.inter.broker.protocol=${KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL:?}
log.dirs=$data
PROPERTIES
  scram=()
  for pair in ${MINSHENG_KAFKA_SCRAM_USERS:?}; do
    scram+=("--add-scram=SCRAM-SHA-512=[name=${pair%%:*},password=${pair#*:}]")
  done
  /opt/kafka/bin/kafka-storage.sh format --cluster-id="${CLUSTER_ID:?}" -c "$config" "${scram[@]}"
  rm -f "$config"
fi
exec /etc/kafka/docker/run "$@"
