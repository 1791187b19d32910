#!/usr/bin/env bash
# System packages the tests need, on Debian/Ubuntu (run as root, or it uses sudo):
#   openssh-server/-client  a real sshd on loopback (exec mode, escape corpus, bastion-free SSH)
#   prometheus              promtool (metrics and alert-rule checks)
#   yamllint, openssl       manifest lint, test certificates
#   protobuf-compiler, protobuf-compiler-grpc, python3-grpcio, python3-protobuf
#                           the Python client: stub generation check and its tests
#   util-linux (script)     CLI tests on a pseudo-terminal
#   haproxy                 the load balancer in front of three replicas (test/serial/scale-out.test.ts)
#   python3-ncclient        a third-party NETCONF client that checks the simulator's NETCONF side
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  openssh-server openssh-client openssl prometheus yamllint ca-certificates util-linux \
  protobuf-compiler protobuf-compiler-grpc python3 python3-grpcio python3-protobuf python3-ncclient haproxy >/dev/null
