"""TLS for ``tradewire serve``: a certificate made on the spot, or one the user passes.

Some clients refuse plain ``ws://`` (cryptofeed, for one), so the reference venue can
serve ``wss://`` and ``https://``.  :func:`local_tls` makes a fresh local certificate
authority and a server certificate it signs for the loopback names (127.0.0.1, ::1,
localhost) and the listening host, with the ``cryptography`` package: ECDSA P-256 keys,
SHA-256 signatures, subject and authority key identifiers (Python 3.13 verifies
strictly), the CA valid for a day either side of now and the server certificate for
30 days.  The CA's certificate and the server's key and certificate are written to a
new private folder (mode 0700); the caller removes it.  :func:`tls_from_files` loads a
certificate and key the user made.  Both return a server-side :class:`ssl.SSLContext`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalTLS", "TLSFailed", "local_tls", "tls_from_files"]

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
_WILDCARDS = ("0.0.0.0", "::", "")


class TLSFailed(Exception):
    """A certificate or key could not be loaded; the message says which and why."""


@dataclass(frozen=True)
class LocalTLS:
    """A made certificate: the server context, the CA file clients trust, its folder."""

    context: ssl.SSLContext
    ca_file: Path
    folder: Path


def _san(name: str) -> object:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def local_tls(host: str) -> LocalTLS:
    """A new CA and a server certificate for the loopback names and ``host``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names = list(LOOPBACK_NAMES)
    bare = host.strip("[]")
    if bare not in names and bare not in _WILDCARDS:
        names.append(bare)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tradewire"),
            x509.NameAttribute(NameOID.COMMON_NAME, "tradewire serve local CA"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tradewire"),
                    x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)  # type: ignore[misc]
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="tradewire-tls-"))
    try:
        ca_file = folder / "ca.pem"
        ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        chain = folder / "server.pem"
        fd = os.open(chain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain)
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    return LocalTLS(context=context, ca_file=ca_file, folder=folder)


def tls_from_files(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    """A server context from a PEM certificate (chain) and its key (``None``: the key is
    in ``certfile``); :class:`TLSFailed` naming the file when they do not load."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    for path, flag in ((certfile, "--certfile"), (keyfile, "--keyfile")):
        if path is not None and not os.path.isfile(path):
            raise TLSFailed(f"invalid {flag} {path!r}: no such file")
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError as exc:
        raise TLSFailed(
            f"invalid --certfile/--keyfile: the certificate and key do not load "
            f"({exc.reason or exc})"
        ) from None
    except OSError as exc:
        raise TLSFailed(f"cannot read --certfile/--keyfile: {exc.strerror or exc}") from None
    return context
