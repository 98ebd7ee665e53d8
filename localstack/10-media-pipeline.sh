#!/bin/bash
# LocalStack ready hook, mounted into /etc/localstack/init/ready.d by docker-compose.yml: the media bucket,
# the SNS topic, sns-ingest's HTTP subscription (confirmed by sns-ingest itself) and the S3 event
# notifications of the upload prefix. LocalStack Community keeps no state, so this runs at every start; the
# compose healthcheck waits for the marker written last.
# Init hooks: https://docs.localstack.cloud/aws/capabilities/config/initialization-hooks/
set -euo pipefail

: "${MP_BUCKET:?MP_BUCKET is required}"
: "${MP_TOPIC_ARN:?MP_TOPIC_ARN is required}"
: "${MP_UPLOAD_PREFIX:?MP_UPLOAD_PREFIX is required}"
: "${MP_SUBSCRIBER_URL:?MP_SUBSCRIBER_URL is required}"
: "${MP_SUBSCRIBER_HEALTH_URL:?MP_SUBSCRIBER_HEALTH_URL is required}"
ready_file=${MP_READY_FILE:-/run/mp-init/ready}
subscriber_wait=${MP_SUBSCRIBER_WAIT_SECONDS:-180}
confirm_wait=${MP_CONFIRM_WAIT_SECONDS:-20}

log() { echo "[media-pipeline init] $*"; }
die() {
  echo "[media-pipeline init] ERROR: $*" >&2
  exit 1
}

rm -f "$ready_file"

# arn:aws:sns:<region>:<account>:<name>
IFS=: read -r _ _ _ region account topic_name <<<"$MP_TOPIC_ARN"
[ -n "$topic_name" ] || die "MP_TOPIC_ARN $MP_TOPIC_ARN is not an SNS topic ARN"
aws() { awslocal --region "$region" "$@"; }

# --- bucket
if aws s3api head-bucket --bucket "$MP_BUCKET" >/dev/null 2>&1; then
  log "bucket $MP_BUCKET exists"
else
  if [ "$region" = us-east-1 ]; then
    aws s3api create-bucket --bucket "$MP_BUCKET" >/dev/null
  else
    aws s3api create-bucket --bucket "$MP_BUCKET" --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  log "bucket $MP_BUCKET created"
fi

# --- topic (SignatureVersion 2: SHA256withRSA signatures on every delivery)
topic_arn=$(aws sns create-topic --name "$topic_name" --attributes SignatureVersion=2 --query TopicArn --output text)
# The account comes from the access key LocalStack is called with (test: 000000000000); the services are
# configured with MP_TOPIC_ARN, so a different ARN here means they would refuse every message.
[ "$topic_arn" = "$MP_TOPIC_ARN" ] || die "LocalStack made topic $topic_arn, the services expect $MP_TOPIC_ARN (account $account)"
log "topic $topic_arn"

# --- sns-ingest's subscription
deadline=$((SECONDS + subscriber_wait))
until curl -fsS -o /dev/null --max-time 3 "$MP_SUBSCRIBER_HEALTH_URL"; do
  [ "$SECONDS" -lt "$deadline" ] || die "sns-ingest did not answer $MP_SUBSCRIBER_HEALTH_URL within ${subscriber_wait}s"
  sleep 2
done

pending() {
  aws sns get-subscription-attributes --subscription-arn "$1" --query Attributes.PendingConfirmation --output text
}

# LocalStack posts the SubscriptionConfirmation once and never again; sns-ingest confirms it by a GET on its
# SubscribeURL. If that did not happen (sns-ingest restarting, say), subscribing anew sends a new one.
subscribe_confirmed() {
  local arn
  arn=$(aws sns subscribe --topic-arn "$topic_arn" --protocol http --notification-endpoint "$MP_SUBSCRIBER_URL" \
    --return-subscription-arn --query SubscriptionArn --output text)
  for _ in $(seq "$confirm_wait"); do
    if [ "$(pending "$arn")" = false ]; then
      log "subscription $arn confirmed by $MP_SUBSCRIBER_URL"
      return 0
    fi
    sleep 1
  done
  aws sns unsubscribe --subscription-arn "$arn"
  return 1
}

confirmed=no
for attempt in 1 2 3; do
  if subscribe_confirmed; then
    confirmed=yes
    break
  fi
  log "subscription not confirmed within ${confirm_wait}s (attempt $attempt of 3)"
done
[ "$confirmed" = yes ] || die "sns-ingest never confirmed its subscription. Its SNS_ALLOWED_CERT_HOSTS must contain the host:port of \
SigningCertURL and SubscribeURL (LOCALSTACK_HOST, here ${LOCALSTACK_HOST:-localhost.localstack.cloud:4566}), with SNS_REQUIRE_HTTPS=false, \
and SNS_ALLOWED_TOPIC_ARNS must contain $topic_arn; see its logs."

# --- S3 events of uploads (ObjectCreated under the upload prefix) to the topic. LocalStack sends an
# s3:TestEvent first, as S3 does; sns-ingest acknowledges and ignores it.
notification_configuration=$(
  cat <<JSON
{
  "TopicConfigurations": [
    {
      "Id": "media-uploads",
      "TopicArn": "$topic_arn",
      "Events": ["s3:ObjectCreated:*"],
      "Filter": { "Key": { "FilterRules": [{ "Name": "prefix", "Value": "$MP_UPLOAD_PREFIX" }] } }
    }
  ]
}
JSON
)
aws s3api put-bucket-notification-configuration --bucket "$MP_BUCKET" --notification-configuration "$notification_configuration"
log "s3://$MP_BUCKET/$MP_UPLOAD_PREFIX ObjectCreated events go to $topic_arn"

mkdir -p "$(dirname "$ready_file")"
touch "$ready_file"
log "ready"
