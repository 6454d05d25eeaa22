#!/usr/bin/env bash
# Creates the databases of one site, each owned by its own login role: `tandem` (Tandem's materialized
# state) and `registry` (Apicurio Registry's storage). The postgres image runs this once, when it
# initializes an empty data directory; psql variables keep the passwords out of the SQL text.
set -e
: "${TANDEM_DB_PASSWORD:?TANDEM_DB_PASSWORD is not set}"
: "${REGISTRY_DB_PASSWORD:?REGISTRY_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  --set tandem_password="$TANDEM_DB_PASSWORD" \
  --set registry_password="$REGISTRY_DB_PASSWORD" <<'SQL'
CREATE ROLE tandem LOGIN PASSWORD :'tandem_password';
CREATE DATABASE tandem OWNER tandem;
CREATE ROLE registry LOGIN PASSWORD :'registry_password';
CREATE DATABASE registry OWNER registry;
SQL
