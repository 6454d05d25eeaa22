#!/usr/bin/env bash
# Creates one site's topics (brokers run with auto.create.topics.enable=false): the local event topics,
# one pair per remote site for what bridges bring in, and Tandem's shared topics. Existing topics are
# left as they are, so this is safe to run on every start.
set -euo pipefail
: "${BOOTSTRAP_SERVER:?}" "${PARTITIONS:?}"
REMOTE_SITES="${REMOTE_SITES:-}"
topics_cli=/opt/kafka/bin/kafka-topics.sh

create() {
  local topic="$1"
  shift
  "$topics_cli" --bootstrap-server "$BOOTSTRAP_SERVER" --create --if-not-exists \
    --topic "$topic" --partitions "$PARTITIONS" --replication-factor 1 "$@"
}

# Events are the replicated source of truth: a link may be down for a long time, so they never expire.
for prefix in "" $REMOTE_SITES; do
  for stream in calls.completed users.changed; do
    create "${prefix:+$prefix.}$stream" --config retention.ms=-1
  done
done
create tandem.heartbeats --config retention.ms=86400000
create tandem.dlq --config retention.ms=2592000000

"$topics_cli" --bootstrap-server "$BOOTSTRAP_SERVER" --list
