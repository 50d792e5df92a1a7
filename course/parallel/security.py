"""TLS certificates for grading on a Dask cluster: a scheduler runs whatever a client sends it.

A Dask scheduler and its workers execute any function a connected client submits, as the user they
run as: for the course, the grading user, who can read ``source/`` and rewrite the gradebook.  Over
plain ``tcp://`` anyone who reaches the scheduler's port is such a client.  So the course's cluster
mode uses TLS with certificates of its own, on every connection (scheduler, workers, client), with
``require_encryption``: a peer without a certificate signed by the course's CA is refused during the
TLS handshake, before it can send anything.

    python -m course.parallel.security DIR    # makes DIR (mode 0700): ca.pem, grading.pem, grading-key.pem

The CA's private key is thrown away once the certificate is signed, so nobody can sign another;
to renew, make a new folder.  Keep DIR private to the grading user (the course refuses a folder that
others can read) and give the same folder to the scheduler and the workers (see README, "Grading a
whole class fast").

May import: the standard library, cryptography, distributed.
"""
import datetime
import os
import stat
import sys
from pathlib import Path

CA, CERT, KEY = "ca.pem", "grading.pem", "grading-key.pem"
VALID_DAYS = 120   # one term


def _name(text):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_certificates(folder, days=VALID_DAYS):
    """Write a fresh CA certificate and one certificate + key signed by it into ``folder`` (0700)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("course grading CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("course grading")).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("dask-grading")]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    files = {CA: ca.public_bytes(pem), CERT: cert.public_bytes(pem),
             KEY: key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())}
    for name, data in files.items():
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
    return folder


def security(folder):
    """distributed's ``Security`` for scheduler, workers and client alike, TLS required.

    Refuses (ValueError, saying why) a folder without the three files or one that others can read.
    """
    from distributed.security import Security
    folder = Path(folder)
    missing = [name for name in (CA, CERT, KEY) if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder} has no {', '.join(missing)}: make the certificates with "
                         f"`python -m course.parallel.security {folder}`")
    if stat.S_IMODE(folder.stat().st_mode) & 0o077 or stat.S_IMODE((folder / KEY).stat().st_mode) & 0o077:
        raise ValueError(f"{folder} can be read by other users: `chmod -R go= {folder}` (its key lets anyone "
                         "run code on the cluster as the grading user)")
    ca, cert, key = (str(folder / name) for name in (CA, CERT, KEY))
    return Security(require_encryption=True, tls_ca_file=ca,
                    tls_client_cert=cert, tls_client_key=key,
                    tls_scheduler_cert=cert, tls_scheduler_key=key,
                    tls_worker_cert=cert, tls_worker_key=key)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m course.parallel.security DIR", file=sys.stderr)
        return 2
    folder = make_certificates(argv[0])
    print(f"certificates in {folder} (mode 0700): {CA}, {CERT}, {KEY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
