"""A test certification centre for qualified (GOST) signatures, made with OpenSSL and Debian's
GOST engine (`libengine-gost-openssl`): root and intermediate CAs, qualified-looking leaf
certificates, a revoked, an expired, a non-qualified and an untrusted one, and CRLs.

It is a tool for tests and the demo, never a real certification centre: every certificate
says «ТЕСТОВЫЙ» in its names. Run `python -m signatures.testca OUT_DIR` to make a set.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509

# The qualified-certificate markers (Приказ ФСБ России № 795) and the identity OIDs.
OIDS = {
    "INNLE": "1.2.643.100.4",
    "OGRN": "1.2.643.100.1",
    "SNILS": "1.2.643.100.3",
    "INN": "1.2.643.3.131.1.1",
    "OGRNIP": "1.2.643.100.5",
}
SUBJECT_SIGN_TOOL = "1.2.643.100.111"
ISSUER_SIGN_TOOL = "1.2.643.100.112"
POLICY_KC1 = "1.2.643.100.113.1"
POLICY_KC2 = "1.2.643.100.113.2"

VALID_FROM = "20260101000000Z"
VALID_UNTIL = "20361231235959Z"


@dataclass(frozen=True)
class Leaf:
    """One leaf certificate to issue."""

    name: str
    bits: int  # 256 or 512
    subject: dict[str, str]
    qualified: bool = True
    start: str = VALID_FROM
    end: str = VALID_UNTIL
    revoke: bool = False
    key_usage: str = "critical, digitalSignature, nonRepudiation"
    issuer: str = "intermediate"  # or "untrusted"


@dataclass
class TestCA:
    """Where the made files are."""

    out: Path
    leaves: dict[str, Path] = field(default_factory=dict)


LEGAL_ENTITY = {
    "CN": "ООО «Стройматериалы»",
    "O": "ООО «Стройматериалы»",
    "SN": "Поставкин",
    "GN": "Сергей Петрович",
    "title": "Генеральный директор",
    "C": "RU",
    "ST": "50 Московская область",
    "L": "Химки",
    "INNLE": "5012123454",
    "OGRN": "1025000123422",
    "SNILS": "11223344595",
}
ENTREPRENEUR = {
    "CN": "Петров Пётр Иванович",
    "SN": "Петров",
    "GN": "Пётр Иванович",
    "C": "RU",
    "ST": "50 Московская область",
    "INN": "500100730004",
    "OGRNIP": "304500100000017",
    "SNILS": "12345678964",
}
OTHER_ORG = {**LEGAL_ENTITY, "CN": "ООО «Метиз-Торг»", "O": "ООО «Метиз-Торг»"}
OTHER_ORG.update(INNLE="7813123450", OGRN="1027800123438", SN="Метизова", GN="Анна Ивановна")

LEAVES = (
    Leaf("le256", 256, LEGAL_ENTITY),
    Leaf("le512", 512, LEGAL_ENTITY),
    Leaf("ip256", 256, ENTREPRENEUR),
    Leaf("other256", 256, OTHER_ORG),
    Leaf("expired", 256, LEGAL_ENTITY, start="20200101000000Z", end="20210101000000Z"),
    Leaf("revoked", 256, LEGAL_ENTITY, revoke=True),
    Leaf("plain", 256, LEGAL_ENTITY, qualified=False),
    Leaf("nosign", 256, LEGAL_ENTITY, key_usage="critical, keyEncipherment"),
    Leaf("untrusted", 256, LEGAL_ENTITY, issuer="untrusted"),
)


def openssl_env() -> dict[str, str]:
    """The environment for the openssl command: the default config, no stray OPENSSL_CONF."""
    env = dict(os.environ)
    env.pop("OPENSSL_CONF", None)
    return env


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    """Run openssl with the GOST engine available; raise with its stderr on failure."""
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, input=stdin, capture_output=True, env=openssl_env()
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def engine_available() -> bool:
    """Whether openssl here has the GOST engine (Debian: libengine-gost-openssl)."""
    if shutil.which("openssl") is None:
        return False
    done = subprocess.run(
        ["openssl", "engine", "gost", "-t"], capture_output=True, env=openssl_env()
    )
    return done.returncode == 0 and b"available" in done.stdout


def _config(work: Path, name: str, extensions: str, dn: dict[str, str] | None = None) -> Path:
    # openssl knows OGRN, SNILS, INN and OGRNIP by name already; INNLE is newer.
    oids = f"INNLE = {OIDS['INNLE']}"
    dn_lines = "\n".join(f"{k} = {v}" for k, v in (dn or {"CN": "x"}).items())
    text = f"""
oid_section = new_oids
[new_oids]
{oids}
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
{dn_lines}
[ca]
default_ca = ca_section
[ca_section]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
default_md = md_gost12_256
default_crl_days = 3650
policy = any
unique_subject = no
preserve = yes
copy_extensions = none
email_in_dn = no
utf8 = yes
string_mask = utf8only
[any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
title = optional
surname = optional
givenName = optional
commonName = supplied
INNLE = optional
OGRN = optional
SNILS = optional
INN = optional
OGRNIP = optional
[ext]
{extensions}
[issuer_tool]
tool = FORMAT:UTF8,UTF8String:«ТЕСТОВОЕ СКЗИ» версии 1.0
ca_tool = FORMAT:UTF8,UTF8String:«ТЕСТОВЫЙ ПАК УЦ» версии 1.0
tool_cert = FORMAT:UTF8,UTF8String:Сертификат соответствия № ТЕСТ/000-0000
ca_cert = FORMAT:UTF8,UTF8String:Сертификат соответствия № ТЕСТ/000-0001
"""
    path = work / f"{name}.cnf"
    path.write_text(text, encoding="utf-8")
    return path


def _ca_dir(work: Path, name: str) -> Path:
    folder = work / name
    (folder / "newcerts").mkdir(parents=True, exist_ok=True)
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text("1000\n" if name == "intermediate" else "2000\n")
    (folder / "crlnumber").write_text("01\n")
    return folder


def _key(work: Path, name: str, bits: int) -> Path:
    path = work / f"{name}.key.pem"
    algorithm = "gost2012_256" if bits == 256 else "gost2012_512"
    # paramset A (CryptoPro-A for 256 bits, tc26 512 A) is what accredited centres issue most.
    run("genpkey", "-engine", "gost", "-algorithm", algorithm, "-pkeyopt", "paramset:A",
        "-out", str(path), cwd=work)  # fmt: skip
    return path


_CA_EXT = """basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:«ТЕСТОВОЕ СКЗИ» версии 1.0
"""


def _root(work: Path, name: str, cn: str) -> tuple[Path, Path]:
    key = _key(work, name, 512)
    dn = {"CN": cn, "O": "ТЕСТОВЫЙ удостоверяющий центр", "C": "RU", "INNLE": "7710123458"}
    cnf = _config(work, name, _CA_EXT, dn)
    cert = work / f"{name}.pem"
    run("req", "-engine", "gost", "-config", str(cnf), "-new", "-x509", "-key", str(key),
        "-md_gost12_512", "-extensions", "ext", "-set_serial", "1", "-days", "3650",
        "-utf8", "-out", str(cert), cwd=work)  # fmt: skip
    return key, cert


def _issue(
    work: Path,
    ca: Path,
    ca_key: Path,
    ca_cert: Path,
    name: str,
    dn: dict[str, str],
    extensions: str,
    bits: int,
    start: str = VALID_FROM,
    end: str = VALID_UNTIL,
) -> tuple[Path, Path]:
    md = _md_of(ca_key)
    key = _key(work, name, bits)
    cnf = _config(work, name, extensions, dn)
    csr = work / f"{name}.csr"
    run("req", "-engine", "gost", "-config", str(cnf), "-new", "-key", str(key),
        "-utf8", "-out", str(csr), cwd=work)  # fmt: skip
    cert = work / f"{name}.pem"
    run("ca", "-engine", "gost", "-config", str(cnf), "-batch", "-notext", "-in", str(csr),
        "-cert", str(ca_cert), "-keyfile", str(ca_key), "-extensions", "ext",
        "-startdate", start, "-enddate", end, "-out", str(cert), "-utf8", "-md",
        md, cwd=ca)  # fmt: skip
    return key, cert


def _leaf_extensions(leaf: Leaf) -> str:
    lines = [
        "basicConstraints = CA:false",
        f"keyUsage = {leaf.key_usage}",
        "extendedKeyUsage = clientAuth, emailProtection",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid",
    ]
    if leaf.qualified:
        lines += [
            f"{SUBJECT_SIGN_TOOL} = ASN1:FORMAT:UTF8,UTF8String:«ТЕСТОВОЕ СКЗИ» версии 1.0",
            f"{ISSUER_SIGN_TOOL} = ASN1:SEQUENCE:issuer_tool",
            f"certificatePolicies = {POLICY_KC1}, {POLICY_KC2}",
        ]
    return "\n".join(lines) + "\n"


def _crl(work: Path, ca: Path, ca_key: Path, ca_cert: Path, out: Path) -> None:
    cnf = _config(work, f"crl-{ca.name}", "")
    run("ca", "-engine", "gost", "-config", str(cnf), "-gencrl", "-cert", str(ca_cert),
        "-keyfile", str(ca_key), "-md", _md_of(ca_key), "-out", str(out), cwd=ca)  # fmt: skip


def _md_of(key: Path) -> str:
    """The Streebog digest that goes with a key: a 512-bit key signs with 512-bit Streebog."""
    text = run("pkey", "-engine", "gost", "-in", str(key), "-noout", "-text", cwd=key.parent)
    private = text.split(b"\n", 1)[0].split(b":")[-1].strip()
    return "md_gost12_512" if len(private) > 64 else "md_gost12_256"


def make(out: Path) -> TestCA:
    """Make the whole set into out/: ca/ (trusted roots and intermediates), crl/, leaves."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    made = TestCA(out)
    with tempfile.TemporaryDirectory(prefix="testca-") as tmp:
        work = Path(tmp)
        root_key, root = _root(work, "root", "ТЕСТОВЫЙ корневой УЦ")
        bad_key, bad_root = _root(work, "otherroot", "ТЕСТОВЫЙ недоверенный УЦ")
        root_ca, bad_ca = _ca_dir(work, "root"), _ca_dir(work, "otherroot")
        inter_dn = {"CN": "ТЕСТОВЫЙ УЦ 2026", "O": "ТЕСТОВЫЙ удостоверяющий центр", "C": "RU"}
        inter_key, inter = _issue(
            work, root_ca, root_key, root, "intermediate", inter_dn,
            _CA_EXT + "authorityKeyIdentifier = keyid\n", 256,
        )  # fmt: skip
        inter_ca = _ca_dir(work, "intermediate")
        for leaf in LEAVES:
            issuer = (inter_ca, inter_key, inter) if leaf.issuer == "intermediate" else None
            issuer = issuer or (bad_ca, bad_key, bad_root)
            key, cert = _issue(
                work, *issuer, leaf.name, leaf.subject, _leaf_extensions(leaf), leaf.bits,
                leaf.start, leaf.end,
            )  # fmt: skip
            if leaf.revoke:
                run("ca", "-engine", "gost", "-config", str(work / f"{leaf.name}.cnf"),
                    "-revoke", str(cert), "-crl_reason", "keyCompromise",
                    "-cert", str(inter), "-keyfile", str(inter_key), cwd=inter_ca)  # fmt: skip
            shutil.copy(key, out / f"{leaf.name}.key.pem")
            shutil.copy(cert, out / f"{leaf.name}.pem")
            made.leaves[leaf.name] = out / f"{leaf.name}.pem"
        (out / "ca").mkdir(exist_ok=True)
        (out / "crl").mkdir(exist_ok=True)
        shutil.copy(root, out / "ca" / "root.pem")
        shutil.copy(inter, out / "ca" / "intermediate.pem")
        shutil.copy(root_key, out / "root.key.pem")
        shutil.copy(inter_key, out / "intermediate.key.pem")
        shutil.copy(bad_root, out / "untrusted-root.pem")
        _crl(work, inter_ca, inter_key, inter, out / "crl" / "intermediate.crl.pem")
        _crl(work, root_ca, root_key, root, out / "crl" / "root.crl.pem")
    return made


def sign_cms(
    message: Path, cert: Path, key: Path, out: Path, *, bits: int = 256, cades: bool = True
) -> bytes:
    """A detached CAdES-BES signature made by `openssl cms -sign` with the GOST engine (DER)."""
    md = "md_gost12_256" if bits == 256 else "md_gost12_512"
    args = ["cms", "-engine", "gost", "-sign", "-binary", "-signer", str(cert),
            "-inkey", str(key), "-in", str(message), "-outform", "DER",
            "-out", str(out), "-md", md]  # fmt: skip
    if cades:
        args.append("-cades")
    run(*args, cwd=out.parent)
    return out.read_bytes()


class _AnySet(core.SetOf):
    _child_spec = core.Any


class _Attribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", _AnySet)]


_STREEBOG = {256: ("streebog256", "1.2.643.7.1.1.2.2"), 512: ("streebog512", "1.2.643.7.1.1.2.3")}
_GOST_KEY = {256: "1.2.643.7.1.1.1.1", 512: "1.2.643.7.1.1.1.2"}


def build_cades(
    certificate_der: bytes,
    content: bytes,
    sign: Callable[[bytes], bytes],
    *,
    bits: int,
    digest: Callable[[bytes], bytes],
    signing_time: datetime,
) -> bytes:
    """A detached CAdES-BES file (DER) over content, structured with asn1crypto; `sign` makes
    the GOST signature (CMS form: s || r) of the DER signed attributes, `digest` is Streebog of
    the key's size. Lets tests and benchmarks sign without the openssl command."""
    certificate = x509.Certificate.load(certificate_der)
    digest_oid = _STREEBOG[bits][1]
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "cert_hash": hashlib.sha256(certificate_der).digest(),
                }
            ]
        }
    )
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [digest(content)]}),
            # asn1crypto's CMS attributes do not know signingCertificateV2: built generically.
            cms.CMSAttribute.load(
                _Attribute({"type": "1.2.840.113549.1.9.16.2.47", "values": [ess]}).dump()
            ),
        ]
    )
    algorithm = algos.DigestAlgorithm({"algorithm": digest_oid})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificate.issuer,
                        "serial_number": certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": algorithm,
            "signed_attrs": attributes,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": _GOST_KEY[bits]}),
            "signature": sign(attributes.dump()),
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algorithm],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cms.CertificateChoices.load(certificate_der)],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def sign_in_process(
    certificate_der: bytes, key_pem: bytes, content: bytes, *, bits: int, signing_time: datetime
) -> bytes:
    """The same file signed by OpenSSL's engine in this process (no openssl command)."""
    from signatures import gost_engine

    name = _STREEBOG[bits][0]
    return build_cades(
        certificate_der,
        content,
        lambda attributes: gost_engine.sign(key_pem, name, attributes),
        bits=bits,
        digest=lambda data: gost_engine.digest(name, data),
        signing_time=signing_time,
    )


def issue(
    out: Path, name: str, subject: dict[str, str], *, ca_cert: Path, ca_key: Path, bits: int = 256
) -> tuple[Path, Path]:
    """A qualified leaf certificate (and its key) from an existing CA into out/."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="testca-issue-") as tmp:
        work = Path(tmp)
        ca = _ca_dir(work, "issuer")
        (ca / "serial").write_text(f"{uuid.uuid4().int % (1 << 60) | (1 << 60):016X}\n")
        leaf = Leaf(name, bits, subject)
        key, cert = _issue(work, ca, ca_key, ca_cert, name, subject, _leaf_extensions(leaf), bits)
        shutil.copy(key, out / f"{name}.key.pem")
        shutil.copy(cert, out / f"{name}.pem")
    return out / f"{name}.pem", out / f"{name}.key.pem"


def main(argv: list[str] | None = None) -> None:
    """Command line: make a test certification centre into a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if not engine_available():
        raise SystemExit("openssl has no GOST engine here: apt-get install libengine-gost-openssl")
    made = make(args.out)
    print(f"Test certification centre written to {made.out}")


if __name__ == "__main__":
    main()
