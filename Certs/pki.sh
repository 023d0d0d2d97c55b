#!/usr/bin/env bash
# MineralSync PKI over the openssl CLI: one CA per participant, node certificates carrying the
# SPIFFE identity URI, admin certificates, revocation and CRLs.
#
#   Certs/pki.sh ca EU                       create the EU participant CA
#   Certs/pki.sh node EU eu-1                issue a node certificate (Ed25519; --algorithm p256 for P-256)
#   Certs/pki.sh admin EU alice              issue an admin (client) certificate
#   Certs/pki.sh revoke EU pki/eu-1.pem      revoke a certificate and rewrite the EU CRL
#   Certs/pki.sh crl EU                      rewrite the EU CRL (e.g. before nextUpdate)
#   Certs/pki.sh inspect pki/eu-1.pem        show identity, issuer, validity, usages
#
# Options (before or after the arguments): --dir DIR (default ./pki), --trust-domain NAME
# (default critical-minerals), --days N (node/admin default 397, CA 3650), --algorithm ed25519|p256.
#
# Keys are written with mode 0600 and never overwritten. A real participant keeps its CA key
# offline or in an HSM: see Certs/README.md.
set -euo pipefail

dir=./pki
trust_domain=critical-minerals
days=
algorithm=ed25519
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --trust-domain) trust_domain=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --algorithm) algorithm=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"

die() { echo "pki.sh: $*" >&2; exit 1; }
command -v openssl >/dev/null || die "openssl is missing (Debian: apt-get install -y openssl)"

participant_ok() { [[ "$1" =~ ^[A-Z0-9]{2,8}$ ]] || die "participant \"$1\" must be 2–8 of A–Z and 0–9"; }
name_ok() { [[ "$1" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "name \"$1\" must be 1–63 of a–z, 0–9 and '-'"; }
[[ "$trust_domain" =~ ^[a-z0-9._-]+$ ]] || die "trust domain \"$trust_domain\" must be lower-case letters, digits, '.', '-' and '_'"

new_key() {  # path
  [ -e "$1" ] && die "$1 exists; refusing to overwrite a key (move it away first)"
  case "$algorithm" in
    ed25519) (umask 077 && openssl genpkey -algorithm ed25519 -out "$1" 2>/dev/null) ;;
    p256) (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) ;;
    *) die "--algorithm must be ed25519 or p256" ;;
  esac
  chmod 600 "$1"
}

ca_dir() { echo "$dir/ca-$1"; }
lower() { echo "$1" | tr 'A-Z' 'a-z'; }

write_ca_config() {  # participant
  local home; home=$(ca_dir "$1")
  cat > "$home/openssl.cnf" <<CONF
[ ca ]
default_ca = participant_ca
[ participant_ca ]
dir = $home
database = \$dir/index.txt
new_certs_dir = \$dir/issued
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = default
default_crl_days = 30
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_extensions ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CONF
}

cmd_ca() {
  [ $# -eq 1 ] || die "usage: pki.sh ca PARTICIPANT"
  participant_ok "$1"
  local home; home=$(ca_dir "$1")
  [ -e "$home/ca.key" ] && die "the $1 CA already exists in $home"
  mkdir -p "$home/issued" && chmod 700 "$home"
  : > "$home/index.txt"
  openssl rand -hex 16 > "$home/serial"
  echo 1000 > "$home/crlnumber"
  write_ca_config "$1"
  new_key "$home/ca.key"
  openssl req -new -x509 -key "$home/ca.key" -config "$home/openssl.cnf" -extensions ca_extensions \
    -subj "/CN=$1 MineralSync CA/O=$1" -days "${days:-3650}" -out "$home/ca.pem" 2>/dev/null
  cp "$home/ca.pem" "$dir/$(lower "$1")-ca.pem"
  gen_crl "$1"
  echo "created the $1 CA: $dir/$(lower "$1")-ca.pem (give this file to partners); key $home/ca.key (keep it offline)"
}

issue() {  # participant name kind uri eku
  local participant=$1 name=$2 kind=$3 uri=$4 eku=$5
  local home; home=$(ca_dir "$participant")
  [ -e "$home/ca.key" ] || die "no $participant CA in $home (run: pki.sh ca $participant)"
  local key="$dir/$name.key" cert="$dir/$name.pem"
  [ -e "$cert" ] && die "$cert exists; refusing to overwrite (revoke it, then move it away)"
  new_key "$key"
  local ext; ext=$(mktemp)
  cat > "$ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $eku
subjectAltName = critical, URI:$uri
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
  local csr; csr=$(mktemp)
  openssl req -new -key "$key" -subj "/CN=$participant $name/O=$participant" -out "$csr" 2>/dev/null
  openssl ca -batch -config "$home/openssl.cnf" -in "$csr" -out "$cert" -extfile "$ext" -days "${days:-397}" -notext 2>/dev/null \
    || { rm -f "$key"; rm -f "$csr" "$ext"; die "signing failed (openssl ca)"; }
  rm -f "$csr" "$ext"
  chmod 644 "$cert"
  echo "issued $kind certificate $cert (key $key) for $uri, serial $(openssl x509 -in "$cert" -noout -serial | cut -d= -f2)"
}

cmd_node() {
  [ $# -eq 2 ] || die "usage: pki.sh node PARTICIPANT NAME"
  participant_ok "$1"; name_ok "$2"
  issue "$1" "$2" node "spiffe://$trust_domain/participant/$1/node/$2" "serverAuth, clientAuth"
}

cmd_admin() {
  [ $# -eq 2 ] || die "usage: pki.sh admin PARTICIPANT NAME"
  participant_ok "$1"; name_ok "$2"
  issue "$1" "admin-$2" admin "spiffe://$trust_domain/participant/$1/admin/$2" "clientAuth"
}

gen_crl() {  # participant
  local home; home=$(ca_dir "$1")
  openssl ca -gencrl -config "$home/openssl.cnf" -out "$dir/$(lower "$1").crl" 2>/dev/null || die "writing the CRL failed (openssl ca -gencrl)"
}

cmd_revoke() {
  [ $# -eq 2 ] || die "usage: pki.sh revoke PARTICIPANT CERT.pem"
  participant_ok "$1"
  [ -r "$2" ] || die "cannot read $2"
  local home; home=$(ca_dir "$1")
  openssl ca -config "$home/openssl.cnf" -revoke "$2" 2>/dev/null || die "revoking $2 failed (was it issued by the $1 CA, or revoked already?)"
  gen_crl "$1"
  echo "revoked $2; CRL written to $dir/$(lower "$1").crl — list it under tls.crls on every node and send SIGHUP"
}

cmd_crl() {
  [ $# -eq 1 ] || die "usage: pki.sh crl PARTICIPANT"
  participant_ok "$1"
  gen_crl "$1"
  echo "CRL written to $dir/$(lower "$1").crl"
}

cmd_inspect() {
  [ $# -eq 1 ] || die "usage: pki.sh inspect CERT.pem"
  openssl x509 -in "$1" -noout -subject -issuer -serial -startdate -enddate -ext subjectAltName,keyUsage,extendedKeyUsage,basicConstraints
}

[ $# -ge 1 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command=$1; shift
mkdir -p "$dir"
case "$command" in
  ca) cmd_ca "$@" ;;
  node) cmd_node "$@" ;;
  admin) cmd_admin "$@" ;;
  revoke) cmd_revoke "$@" ;;
  crl) cmd_crl "$@" ;;
  inspect) cmd_inspect "$@" ;;
  *) die "unknown command \"$command\" (ca, node, admin, revoke, crl, inspect)" ;;
esac
