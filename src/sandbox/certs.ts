import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

const { asn1, pki } = forge;

/** One certificate and its private key, as PEM text and as the files written. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Throwaway PKI for local mutual TLS:
 * - `ca` signs `server` (SAN localhost, 127.0.0.1, ::1 and any `serverHosts`) and `client` (a QWAC
 *   look-alike for the TPP);
 * - `rogueCa` is unrelated and signs `rogueClient` and `rogueServer`, for negative tests
 *   (a client certificate the sandbox must refuse, a bank certificate the BFF must refuse).
 */
export interface SandboxCertificates {
  readonly dir: string;
  readonly ca: PemPair;
  readonly server: PemPair;
  readonly client: PemPair;
  readonly rogueCa: PemPair;
  readonly rogueClient: PemPair;
  readonly rogueServer: PemPair;
}

export interface SandboxCertOptions {
  readonly validDays?: number;
  /**
   * More DNS names for the server certificate, beside localhost, 127.0.0.1 and ::1: e.g. `sandbox`,
   * the compose service name the production-mode BFF reaches the sandbox under over https.
   */
  readonly serverHosts?: readonly string[];
  /** eIDAS organizationIdentifier of the TPP: "PSD" + country + "-" + NCA id + "-" + authorisation number. */
  readonly organizationIdentifier?: string;
  readonly keyBits?: number;
}

type Subject = forge.pki.CertificateField[];
interface Issuer {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

/** Generates every certificate with node-forge (no openssl) and writes PEM files into `dir`. */
export function generateSandboxCerts(dir: string, options: SandboxCertOptions = {}): SandboxCertificates {
  const days = options.validDays ?? 825;
  const bits = options.keyBits ?? 2048;
  const orgId = options.organizationIdentifier ?? 'PSDIT-BI-12345';
  mkdirSync(dir, { recursive: true });

  const ca = issue({ subject: name('tpp-bff sandbox CA', 'tpp-bff sandbox'), days, bits, extensions: caExtensions() });
  const server = issue({
    subject: name('localhost', 'tpp-bff sandbox ASPSP'),
    issuer: ca,
    days,
    bits,
    extensions: [
      ...leafExtensions('serverAuth'),
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          ...(options.serverHosts ?? []).map((value) => ({ type: 2, value })),
        ],
      },
    ],
  });
  const client = issue({
    subject: [...name('tpp-bff sandbox TPP', 'tpp-bff sandbox TPP'), organizationIdentifier(orgId)],
    issuer: ca,
    days,
    bits,
    extensions: [...leafExtensions('clientAuth'), qcStatements()],
  });
  const rogueCa = issue({ subject: name('rogue CA', 'not a trusted issuer'), days, bits, extensions: caExtensions() });
  const rogueClient = issue({
    subject: [...name('rogue TPP', 'rogue TPP'), organizationIdentifier('PSDIT-BI-66666')],
    issuer: rogueCa,
    days,
    bits,
    extensions: [...leafExtensions('clientAuth'), qcStatements()],
  });
  const rogueServer = issue({
    subject: name('localhost', 'rogue ASPSP'),
    issuer: rogueCa,
    days,
    bits,
    extensions: [
      ...leafExtensions('serverAuth'),
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });

  const write = (base: string, issued: Issuer): PemPair => {
    const cert = pki.certificateToPem(issued.cert);
    const key = pki.privateKeyToPem(issued.key);
    const certFile = join(dir, `${base}.crt`);
    const keyFile = join(dir, `${base}.key`);
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key, { mode: 0o600 });
    return { cert, key, certFile, keyFile };
  };
  return {
    dir,
    ca: write('ca', ca),
    server: write('server', server),
    client: write('client', client),
    rogueCa: write('rogue-ca', rogueCa),
    rogueClient: write('rogue-client', rogueClient),
    rogueServer: write('rogue-server', rogueServer),
  };
}

function name(commonName: string, organization: string): Subject {
  return [
    { shortName: 'C', value: 'IT' },
    { shortName: 'O', value: organization },
    { shortName: 'CN', value: commonName },
  ];
}

/** X.520 organizationIdentifier (2.5.4.97) as UTF8String; @types/node-forge mistypes valueTagClass. */
function organizationIdentifier(value: string): forge.pki.CertificateField {
  return { type: '2.5.4.97', value, valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class };
}

function issue(spec: { subject: Subject; issuer?: Issuer; days: number; bits: number; extensions: object[] }): Issuer {
  // node-forge uses Node's native RSA key generation when available.
  const keys = pki.rsa.generateKeyPair({ bits: spec.bits, e: 0x10001 });
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = certificateSerial(randomBytes(16));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + spec.days * 24 * 3600 * 1000);
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer === undefined ? spec.subject : spec.issuer.cert.subject.attributes);
  const extensions: object[] = [...spec.extensions, { name: 'subjectKeyIdentifier' }];
  if (spec.issuer !== undefined) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: spec.issuer.cert.generateSubjectKeyIdentifier().getBytes() });
  cert.setExtensions(extensions);
  cert.sign(spec.issuer?.key ?? keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

/**
 * A positive serial number (RFC 5280 4.1.2.2: at most 20 octets) as hex, whose DER INTEGER is minimal
 * for any random input: the first octet is forced into 0x40–0x7f. node-forge strips at most one
 * leading zero octet when encoding an INTEGER, so a random serial starting with two zero octets would
 * come out with illegal padding, which OpenSSL refuses to load.
 */
export function certificateSerial(random: Uint8Array): string {
  const bytes = Buffer.from(random.subarray(0, 16));
  if (bytes.length !== 16) throw new Error('certificateSerial needs 16 random bytes');
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function caExtensions(): object[] {
  return [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ];
}

function leafExtensions(usage: 'serverAuth' | 'clientAuth'): object[] {
  return [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', [usage]: true },
  ];
}

/**
 * ETSI TS 119 495 QCStatements, as in an eIDAS QWAC for PSD2: QcCompliance, QcType web and the PSD2
 * statement with roles PSP_PI and PSP_AI and the competent authority (Banca d'Italia, IT-BI).
 */
function qcStatements(): object {
  const seq = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
  const oid = (id: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
  const utf8 = (text: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(text));
  const value = seq([
    seq([oid('0.4.0.1862.1.1')]),
    seq([oid('0.4.0.1862.1.6'), seq([oid('0.4.0.1862.1.6.3')])]),
    seq([
      oid('0.4.0.19495.2'),
      seq([seq([seq([oid('0.4.0.19495.1.2'), utf8('PSP_PI')]), seq([oid('0.4.0.19495.1.3'), utf8('PSP_AI')])]), utf8("Banca d'Italia"), utf8('IT-BI')]),
    ]),
  ]);
  return { id: '1.3.6.1.5.5.7.1.3', critical: false, value };
}
