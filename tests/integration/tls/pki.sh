#!/usr/bin/env bash
# Makes the certificates of tests/integration/test_mirror_tls.sh in DIR with
# the openssl command: a CA, a server certificate for 127.0.0.1 and
# localhost, an expired one of the same CA, a client CA with a client
# certificate, and an unrelated "wrong" CA. EC P-256 keys (fast).
# usage: pki.sh DIR
set -eu
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME CN
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" 2>/dev/null
}
ca ca "spoa-shadow test CA"
ca client-ca "spoa-shadow test client CA"
ca wrong-ca "spoa-shadow wrong CA"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
printf 'extendedKeyUsage=clientAuth\n' >client.ext
key server.key
openssl req -new -key server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
    -out server.pem 2>/dev/null
key client.key
openssl req -new -key client.key -out client.csr -subj "/CN=spoa-shadow" 2>/dev/null
openssl x509 -req -in client.csr -CA client-ca.pem -CAkey client-ca.key -CAcreateserial -days 2 \
    -extfile client.ext -out client.pem 2>/dev/null
# Expired: valid for one day in 2020 (openssl ca sets both dates).
key expired.key
openssl req -new -key expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
: >index.txt
echo 1000 >serial
cat >ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = any
[ any ]
commonName = supplied
CNF
openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20200102000000Z -extfile server.ext 2>/dev/null
