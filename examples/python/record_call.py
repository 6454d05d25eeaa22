#!/usr/bin/env python3
"""A recorder in Python publishing one call to a Tandem site, with nothing of Tandem's own code.

It follows docs/recorders.md: the audio goes first to the site's object store with a plain S3 client
(boto3), under the key the contract fixes; then the CallCompleted event goes to the site's
`calls.completed` topic, keyed by the call id, with the five Tandem headers, serialized by the standard
Confluent Avro serializer under the subject `calls.completed-value`.

    record_call.py --site site.json --call call.json --audio call.wav

`site.json` names the site's endpoints: {"site", "kafka", "registry", "s3": {"endpoint", "region",
"bucket", "accessKeyId", "secretAccessKey"}}. `call.json` holds the call's fields as in
schemas/CallCompleted.avsc (without eventId, originSite and audio's size and sha256, which are derived
here). Prints the call id and the event id; exits 1 with one line on stderr when anything fails.
"""

import argparse
import hashlib
import json
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.config import Config
from confluent_kafka import KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

TOPIC = "calls.completed"
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "CallCompleted.avsc"
# Tandem's own publisher derives the event id so; any derivation that gives one id per call keeps a
# retried publication idempotent.
CALL_EVENT_NAMESPACE = uuid.UUID("6f1f7a52-3c1e-4a55-9b43-0c8f1d2e5a10")


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


def publish(site: dict, call: dict, audio: Path) -> dict:
    sha256, size = sha256_and_size(audio)
    object_key = audio_object_key(call["tenantId"], call["startedAtMs"], call["callId"])
    event = {
        **call,
        "eventId": str(uuid.uuid5(CALL_EVENT_NAMESPACE, call["callId"])),
        "originSite": site["site"],
        "audio": {**call["audio"], "objectKey": object_key, "sizeBytes": size, "sha256": sha256},
    }

    # 1. The audio first: an event must never name an object that is not there yet.
    s3_client(site["s3"]).upload_file(
        str(audio), site["s3"]["bucket"], object_key, ExtraArgs={"ContentType": call["audio"]["contentType"]}
    )

    # 2. Then the event.
    serializer = AvroSerializer(
        SchemaRegistryClient({"url": site["registry"]}),
        SCHEMA.read_text(),
        conf={"auto.register.schemas": True},
    )
    producer = Producer(
        {
            "bootstrap.servers": ",".join(site["kafka"]),
            "enable.idempotence": True,
            "acks": "all",
            # Java's partitioner, as Tandem's publisher uses: the same call id lands on the same partition.
            "partitioner": "murmur2_random",
        }
    )
    failures = []
    producer.produce(
        TOPIC,
        key=event["callId"].encode(),
        value=serializer(event, SerializationContext(TOPIC, MessageField.VALUE)),
        headers=[
            ("tandem-event-id", event["eventId"]),
            ("tandem-origin", site["site"]),
            ("tandem-path", site["site"]),
            ("tandem-tenant", event["tenantId"]),
            ("tandem-group", event["groupId"]),
        ],
        on_delivery=lambda error, _message: error and failures.append(error),
    )
    if producer.flush(30) > 0:
        raise RuntimeError(f"{TOPIC}: not acknowledged by {site['kafka']} within 30 s")
    if failures:
        raise KafkaException(failures[0])
    return event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, type=Path, help="the site's endpoints (JSON)")
    parser.add_argument("--call", required=True, type=Path, help="the call's fields (JSON)")
    parser.add_argument("--audio", required=True, type=Path, help="the audio file")
    args = parser.parse_args()
    try:
        event = publish(json.loads(args.site.read_text()), json.loads(args.call.read_text()), args.audio)
    except Exception as error:  # one clear line for the operator, whatever failed
        print(f"record_call: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"call {event['callId']} event {event['eventId']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
