import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';

/**
 * Test certificates for loopback peers (test support only, never imported by the app):
 * - a throwaway CA and server certificates it signs for 127.0.0.1 / ::1 / localhost (HTTPS peers such as Entra,
 *   whose client library refuses plain-http authorities);
 * - self-signed client certificates with a chosen validity (an Entra app's certificate, valid or already expired);
 * - `trustTestCa`: makes this test process trust the CA the way the OS trust store would, so the product's network
 *   code runs unchanged (there is no "trust this CA" switch in the product).
 *
 * Certificates are built here with a small DER writer and node:crypto signatures (no extra dependency), which
 * also lets a test pick any notBefore / notAfter, including dates in the past.
 */

// --- a minimal DER writer -------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
const int = (b: Buffer) => tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const explicit = (n: number, b: Buffer) => tlv(0xa0 | n, b);
const NULL = Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), NULL);

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

interface CertParams {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

function buildCert(p: CertParams): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(serial),
    SHA256_RSA,
    name(p.issuer),
    seq(time(p.notBefore), time(p.notAfter)),
    name(p.subject),
    p.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...p.extensions))
  );
  const der = seq(tbs, SHA256_RSA, bits(sign('sha256', tbs, p.signingKey)));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

// --- public helpers -------------------------------------------------------------------------------

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

export interface TestCa extends CertAndKey {
  /** A server certificate for 127.0.0.1, ::1 and localhost, signed by this CA. */
  issueServer(): CertAndKey;
}

export function createTestCa(cn = 'Keydesk Test CA'): TestCa {
  const keys = rsa();
  const now = Date.now();
  const window = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 7 * 24 * 3600_000) };
  const caCert = buildCert({
    subject: cn,
    issuer: cn,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    ...window,
    extensions: [
      ext('2.5.29.19', true, seq(bool(true), int(Buffer.from([0])))), // basicConstraints: CA, pathLen 0
      ext('2.5.29.15', true, bits(Buffer.from([0x06]), 1)) // keyUsage: keyCertSign, cRLSign
    ]
  });
  return {
    certPem: caCert,
    keyPem: pkcs8(keys.privateKey),
    issueServer() {
      const leaf = rsa();
      const certPem = buildCert({
        subject: '127.0.0.1',
        issuer: cn,
        publicKey: leaf.publicKey,
        signingKey: keys.privateKey,
        ...window,
        extensions: [
          ext('2.5.29.19', true, seq()), // not a CA
          ext('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
          ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
          ext(
            '2.5.29.17',
            false,
            seq(
              tlv(0x87, Buffer.from([127, 0, 0, 1])),
              tlv(0x87, Buffer.concat([Buffer.alloc(15), Buffer.from([1])])),
              tlv(0x82, Buffer.from('localhost'))
            )
          )
        ]
      });
      return { certPem, keyPem: pkcs8(leaf.privateKey) };
    }
  };
}

export interface ClientCertificate extends CertAndKey {
  /** Certificate followed by its private key: what an analyst pastes into `certificate_pem`. */
  bundle: string;
  /** SHA-1 and SHA-256 thumbprints (hex, upper case), as Entra shows them. */
  sha1: string;
  sha256: string;
  notAfter: Date;
}

/** A self-signed RSA certificate such as an Entra app registration's credential (valid or already expired). */
export function createClientCertificate(opts: { cn?: string; notBefore?: Date; notAfter?: Date } = {}): ClientCertificate {
  const keys = rsa();
  const now = Date.now();
  const notAfter = new Date(Math.floor((opts.notAfter?.getTime() ?? now + 365 * 24 * 3600_000) / 1000) * 1000);
  const notBefore = opts.notBefore ?? new Date(Math.min(now - 3600_000, notAfter.getTime() - 24 * 3600_000));
  const cn = opts.cn ?? 'keydesk-test-app';
  const certPem = buildCert({
    subject: cn,
    issuer: cn,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore,
    notAfter,
    extensions: [ext('2.5.29.19', true, seq()), ext('2.5.29.15', true, bits(Buffer.from([0x80]), 7))]
  });
  const der = new X509Certificate(certPem).raw;
  const keyPem = pkcs8(keys.privateKey);
  return {
    certPem,
    keyPem,
    bundle: `${certPem}${keyPem}`,
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    notAfter
  };
}

/**
 * Adds a CA to this process's default trust (what Node's TLS clients and fetch use when no `ca` is given), as if
 * it were in the OS trust store. Returns a function that restores the previous trust.
 */
export function trustTestCa(caPem: string): () => void {
  const before = getCACertificates('default');
  setDefaultCACertificates([...before, caPem]);
  return () => setDefaultCACertificates(before);
}
