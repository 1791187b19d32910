"""A throw-away PKI for the client tests, made with the system openssl (EC P-256: fast)."""
from __future__ import annotations

import itertools
import os
import subprocess
from typing import List

_serials = itertools.count(1000)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def issue(dir: str, ca: str, name: str, cn: str, usage: str, sans: List[str]) -> None:
    """<name>.key (PKCS#8) and <name>.pem signed by <ca>.pem/<ca>.key."""
    key, csr, ext = (os.path.join(dir, f"{name}.{x}") for x in ("key", "csr", "ext"))
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key + ".sec1")
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", key + ".sec1", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={cn}", "-out", csr)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                f"extendedKeyUsage={usage}\n" + (f"subjectAltName={','.join(sans)}\n" if sans else ""))
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(dir, f"{ca}.pem"), "-CAkey", os.path.join(dir, f"{ca}.key"),
            "-set_serial", str(next(_serials)), "-days", "2", "-sha256", "-extfile", ext,
            "-out", os.path.join(dir, f"{name}.pem"))


def make_ca(dir: str, name: str) -> None:
    key = os.path.join(dir, f"{name}.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-sha256", "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", os.path.join(dir, f"{name}.pem"))
