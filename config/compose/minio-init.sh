#!/bin/sh
# Prepares one site's MinIO: the bucket, and a key for Tandem limited to that bucket (the root
# credentials stay with the administrator). Safe to run on every start.
set -eu
: "${S3_ENDPOINT:?}" "${BUCKET:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"
: "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}"

mc alias set site "$S3_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "site/$BUCKET"

policy="$BUCKET-readwrite"
policy_file="$(mktemp)"
cat >"$policy_file" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$BUCKET"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::$BUCKET/*"]
    }
  ]
}
JSON
mc admin policy create site "$policy" "$policy_file"
rm -f "$policy_file"

# Adding an existing user updates its secret, so a changed .env takes effect on the next start.
mc admin user add site "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY"
# Attaching a policy that is already attached is an error; only that case is tolerated.
mc admin policy attach site "$policy" --user "$S3_ACCESS_KEY_ID" ||
  mc admin user info site "$S3_ACCESS_KEY_ID" | grep -q -- "$policy"
