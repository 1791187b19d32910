#!/usr/bin/env bash
# System packages for the optional peers benchmark (bench/peers.ts), on Debian/Ubuntu (run as
# root, or it uses sudo). Not needed by `npm test`, nor by the other benchmarks:
#   python3-netmiko  Netmiko (and paramiko), imported by /usr/bin/python3
#   ansible          ansible-core plus the community collections, among them ansible.netcommon
#                    (network_cli) and cisco.ios (ios_command); network_cli falls back to paramiko
#                    because Debian does not package ansible-pylibssh
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3 python3-netmiko ansible >/dev/null
/usr/bin/python3 -c 'import netmiko' || { echo "python3-netmiko installed but netmiko is not importable by /usr/bin/python3" >&2; exit 1; }
[ -f /usr/lib/python3/dist-packages/ansible_collections/cisco/ios/MANIFEST.json ] \
  || { echo "ansible installed without the cisco.ios collection" >&2; exit 1; }
echo "peers benchmark dependencies installed: $(/usr/bin/python3 -c 'import netmiko; print("netmiko", netmiko.__version__)'), $(/usr/bin/python3 -c "import ansible.release; print(\"ansible-core\", ansible.release.__version__)")"
