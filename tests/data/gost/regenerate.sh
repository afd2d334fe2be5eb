#!/usr/bin/env bash
# Regenerates the GOST test certification centre (issue 24): root and intermediate CAs,
# qualified-looking leaves, CRLs. Needs openssl with Debian's GOST engine
# (apt-get install libengine-gost-openssl). Every name in them says «ТЕСТОВЫЙ».
set -euo pipefail
cd "$(dirname "$0")/../../.."
rm -rf tests/data/gost/ca tests/data/gost/crl tests/data/gost/*.pem
.venv/bin/python -m signatures.testca tests/data/gost
