#!/usr/bin/env python3
"""A recorder in Python publishing a call or a user edit to a Tandem site, with nothing of Tandem's own code.

It follows docs/recorders.md: the audio goes first to the site's object store with a plain S3 client
(boto3), under the key the contract fixes; then the CallCompleted event goes to the site's
`calls.completed` topic, keyed by the call id, with the five Tandem headers, serialized by the standard
Confluent Avro serializer under the subject `calls.completed-value`. A user edit goes the same way to
`users.changed`, keyed by the user id.

    record_call.py --site site.json --call call.json --audio call.wav
    record_call.py --site site.json --user user.json

`site.json` names the site's endpoints: {"site", "kafka", "registry", "s3": {"endpoint", "region",
"bucket", "accessKeyId", "secretAccessKey"}}. `call.json` holds the call's fields as in
schemas/CallCompleted.avsc (without eventId, originSite and audio's key, size and sha256, which are derived
here); `user.json` is the edit file of `tandem publish user` (examples/publish/user.json). Prints the ids;
exits 1 with one line on stderr when anything fails.
"""

import argparse
import hashlib
import json
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.config import Config
from confluent_kafka import KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
# Tandem's own publisher derives the event id so; any derivation that gives one id per call keeps a
# retried publication idempotent.
CALL_EVENT_NAMESPACE = uuid.UUID("6f1f7a52-3c1e-4a55-9b43-0c8f1d2e5a10")
# Mistakes a recorder can make, each with the outcome docs/recorders.md documents: the conformance test
# (test/integration/recorder-conformance.test.ts) makes them on purpose.
MISTAKES = ["missing-header", "wrong-key", "other-sha256", "no-upload"]


def audio_object_key(tenant_id: str, started_at_ms: int, call_id: str) -> str:
    day = datetime.fromtimestamp(started_at_ms / 1000, tz=timezone.utc)
    return f"tenants/{tenant_id}/{day:%Y/%m/%d}/{call_id}.wav"


def sha256_and_size(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as audio:
        while chunk := audio.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def s3_client(s3: dict):
    # S3Proxy (and other S3-compatible servers) refuse the checksum trailers boto3 sends by default.
    config = Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=s3["endpoint"],
        region_name=s3["region"],
        aws_access_key_id=s3["accessKeyId"],
        aws_secret_access_key=s3["secretAccessKey"],
        config=config,
    )


def send(site: dict, topic: str, schema: str, key: str, event: dict, mistake: str | None = None) -> None:
    registry = SchemaRegistryClient({"url": site["registry"]})
    subject = f"{topic}-value"
    try:
        registry.get_latest_version(subject)
    except SchemaRegistryError as error:
        if error.http_status_code != 404:
            raise
        # A new subject gets the level the contract fixes before the serializer registers the schema:
        # Tandem's own publishers at the site insist on it.
        registry.set_compatibility(subject, "BACKWARD")
    serializer = AvroSerializer(registry, (SCHEMAS / schema).read_text(), conf={"auto.register.schemas": True})
    producer = Producer(
        {
            "bootstrap.servers": ",".join(site["kafka"]),
            "enable.idempotence": True,
            "acks": "all",
            # Java's partitioner, as Tandem's publisher uses: the same call id lands on the same partition.
            "partitioner": "murmur2_random",
        }
    )
    headers = [
        ("tandem-event-id", event["eventId"]),
        ("tandem-origin", site["site"]),
        ("tandem-path", site["site"]),
        ("tandem-tenant", event["tenantId"]),
        ("tandem-group", event["groupId"]),
    ]
    failures = []
    producer.produce(
        topic,
        key=(event["eventId"] if mistake == "wrong-key" else key).encode(),
        value=serializer(event, SerializationContext(topic, MessageField.VALUE)),
        headers=headers[:3] if mistake == "missing-header" else headers,
        on_delivery=lambda error, _message: error and failures.append(error),
    )
    if producer.flush(30) > 0:
        raise RuntimeError(f"{topic}: not acknowledged by {site['kafka']} within 30 s")
    if failures:
        raise KafkaException(failures[0])


def publish_call(site: dict, call: dict, audio: Path, mistake: str | None) -> str:
    sha256, size = sha256_and_size(audio)
    if mistake == "other-sha256":
        sha256 = hashlib.sha256(b"not the recording").hexdigest()
    object_key = audio_object_key(call["tenantId"], call["startedAtMs"], call["callId"])
    event = {
        **call,
        "eventId": str(uuid.uuid5(CALL_EVENT_NAMESPACE, call["callId"])),
        "originSite": site["site"],
        "audio": {**call["audio"], "objectKey": object_key, "sizeBytes": size, "sha256": sha256},
    }

    # 1. The audio first: an event must never name an object that is not there yet.
    if mistake != "no-upload":
        s3_client(site["s3"]).upload_file(
            str(audio), site["s3"]["bucket"], object_key, ExtraArgs={"ContentType": call["audio"]["contentType"]}
        )

    # 2. Then the event.
    send(site, "calls.completed", "CallCompleted.avsc", event["callId"], event, mistake)
    return f"call {event['callId']} event {event['eventId']}"


def publish_user(site: dict, edit: dict) -> str:
    changes = edit.get("changes", {}) if edit["operation"] == "UPSERT" else {}
    event = {
        "eventId": edit.get("eventId") or str(uuid.uuid4()),
        "userId": edit["userId"],
        "tenantId": edit["tenantId"],
        "groupId": edit["groupId"],
        "operation": edit["operation"],
        "changedFields": list(changes),
        "fields": changes,
        # The edit is this writer's latest: a real recorder keeps a hybrid logical clock and bases its edit
        # on the version it read (an empty base conflicts with any concurrent edit of the same field).
        "hlc": {"wallTimeMs": int(time.time() * 1000), "logical": 0},
        "baseVersion": edit.get("baseVersion", {}),
        "originSite": site["site"],
    }
    send(site, "users.changed", "UserChanged.avsc", event["userId"], event)
    return f"user {event['userId']} event {event['eventId']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, type=Path, help="the site's endpoints (JSON)")
    parser.add_argument("--call", type=Path, help="the call's fields (JSON), with --audio")
    parser.add_argument("--audio", type=Path, help="the call's audio file")
    parser.add_argument("--user", type=Path, help="a user edit (JSON), instead of a call")
    parser.add_argument("--mistake", choices=MISTAKES, help="for the conformance test only, with --call")
    args = parser.parse_args()
    if (args.user is None) == (args.call is None or args.audio is None) or (args.mistake and args.user):
        parser.error("--site site.json (--call call.json --audio call.wav | --user user.json)")
    try:
        site = json.loads(args.site.read_text())
        if args.user:
            line = publish_user(site, json.loads(args.user.read_text()))
        else:
            line = publish_call(site, json.loads(args.call.read_text()), args.audio, args.mistake)
    except Exception as error:  # one clear line for the operator, whatever failed
        print(f"record_call: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
