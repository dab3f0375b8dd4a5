#!/usr/bin/env bash
# Mints an RS256 JWT for trying SSE Hub with authentication on (docs/security.md), with openssl only.
# Not an identity provider: in production your IdP issues the tokens.
#   tools/mint-token.sh PRIVATE_KEY.pem SUBJECT [GROUPS] [SECONDS] [ISSUER] [AUDIENCE] [SSE_TOPICS]
#   GROUPS      comma-separated roles, e.g. sse-publisher,sse-admin (default: none)
#   SECONDS     lifetime (default 3600)
#   ISSUER      iss claim (default https://issuer.example); must match mp.jwt.verify.issuer
#   AUDIENCE    aud claim (default sse-hub); must match mp.jwt.verify.audiences when that is set
#   SSE_TOPICS  comma-separated topic patterns for the sse_topics claim (default: no claim, any topic)
set -euo pipefail
key=${1:?usage: mint-token.sh PRIVATE_KEY.pem SUBJECT [GROUPS] [SECONDS] [ISSUER] [AUDIENCE] [SSE_TOPICS]}
sub=${2:?subject missing}
groups=${3:-}
lifetime=${4:-3600}
iss=${5:-https://issuer.example}
aud=${6:-sse-hub}
topics=${7:-}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
json_list() { # a,b -> ["a","b"]
    local out="" item
    IFS=',' read -ra items <<<"$1"
    for item in "${items[@]}"; do out="$out${out:+,}\"$item\""; done
    printf '[%s]' "$out"
}

now=$(date +%s)
header='{"alg":"RS256","typ":"JWT"}'
payload="{\"iss\":\"$iss\",\"sub\":\"$sub\",\"aud\":\"$aud\",\"iat\":$now,\"exp\":$((now + lifetime))"
[ -n "$groups" ] && payload="$payload,\"groups\":$(json_list "$groups")"
[ -n "$topics" ] && payload="$payload,\"sse_topics\":$(json_list "$topics")"
payload="$payload}"
signing_input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
signature=$(printf '%s' "$signing_input" | openssl dgst -sha256 -sign "$key" -binary | b64url)
printf '%s.%s\n' "$signing_input" "$signature"
