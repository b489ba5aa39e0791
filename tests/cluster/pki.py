"""Self-made certificates and keys for the test control plane (python `cryptography`, no openssl).

One CA signs the API server's serving cert (127.0.0.1); each operator's webhook gets its own CA
named as its cert rotator expects. A webhook cert carries the in-cluster Service DNS name the operator's cert rotator checks
(open-policy-agent/cert-controller `ValidCert`: chain to `ca.crt`, `DNSName`, ServerAuth) and the IP
127.0.0.1 that the API server dials, so the rotator keeps it instead of minting one without an IP.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID = dt.timedelta(days=3650)  # beyond cert-controller's 90-day lookahead


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def make_ca(name: str) -> tuple[KeyPair, rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed CA whose SAN is its own name (what cert-controller's CA check asks for)."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)), key, cert


def make_serving_cert(ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, dns: list[str]) -> KeyPair:
    """A server cert for `dns` names and 127.0.0.1, signed by the CA."""
    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + VALID)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


@dataclass(frozen=True)
class Pki:
    """Files the control plane reads, all under one directory."""

    ca_crt: Path
    ca_key: Path
    serving_crt: Path
    serving_key: Path
    sa_key: Path
    sa_pub: Path
    ca: KeyPair


def write_pki(root: Path) -> Pki:
    """The CA, the API server's serving cert and the service-account signing key pair."""
    root.mkdir(parents=True, exist_ok=True)
    ca, ca_key, ca_cert = make_ca("astrobio-test-ca")
    serving = make_serving_cert(ca_key, ca_cert, ["localhost", "kubernetes", "kubernetes.default.svc"])
    sa = _key()
    files = {"ca.crt": ca.cert_pem, "ca.key": ca.key_pem, "apiserver.crt": serving.cert_pem,
             "apiserver.key": serving.key_pem, "sa.key": _key_pem(sa),
             "sa.pub": sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)}
    for name, data in files.items():
        (root / name).write_bytes(data)
        (root / name).chmod(0o600)
    return Pki(root / "ca.crt", root / "ca.key", root / "apiserver.crt", root / "apiserver.key",
               root / "sa.key", root / "sa.pub", ca)
