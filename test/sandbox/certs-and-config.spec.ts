import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { createSecureContext } from 'node:tls';
import { certificateSerial, generateSandboxCerts, type SandboxCertificates } from '../../src/sandbox/certs.js';
import { DEFAULT_REJECT_CREDITOR_IBAN, resolveSandboxConfig, SandboxConfigError, sandboxOptionsFromEnv } from '../../src/sandbox/config.js';
import { isValidIBAN } from 'ibantools';

describe('generateSandboxCerts', () => {
  let dir: string;
  let certs: SandboxCertificates;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-certs-'));
    certs = generateSandboxCerts(join(dir, 'nested'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a CA, server, client and an unrelated rogue CA with its client and server', () => {
    expect(readdirSync(join(dir, 'nested')).sort()).toEqual(
      ['ca', 'client', 'rogue-ca', 'rogue-client', 'rogue-server', 'server'].flatMap((n) => [`${n}.crt`, `${n}.key`]).sort(),
    );
  });

  it('issues the server certificate for localhost and 127.0.0.1 from the CA', () => {
    const ca = new X509Certificate(certs.ca.cert);
    const server = new X509Certificate(certs.server.cert);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(ca.ca).toBe(true);
  });

  it('makes a QWAC-like client certificate: organizationIdentifier, O=tpp-bff sandbox TPP, PSD2 QC statement', () => {
    const client = new X509Certificate(certs.client.cert);
    expect(client.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
    expect(client.subject).toContain('O=tpp-bff sandbox TPP');
    const parsed = forge.pki.certificateFromPem(certs.client.cert);
    expect(parsed.subject.getField({ type: '2.5.4.97' })?.value).toBe('PSDIT-BI-12345');
    expect(parsed.getExtension({ id: '1.3.6.1.5.5.7.1.3' } as unknown as string)).toBeTruthy();
    expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
  });

  it('gives every certificate a serial whose DER encoding OpenSSL accepts, whatever the random octets', () => {
    for (const random of [
      Buffer.alloc(16),
      Buffer.alloc(16, 0xff),
      Buffer.from('0000017f80000000000000000000000a', 'hex'),
      Buffer.from('00807f00000000000000000000000000', 'hex'),
    ]) {
      const serial = certificateSerial(random);
      const der = Buffer.from(
        forge.asn1.toDer(forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.util.hexToBytes(serial))).getBytes(),
        'binary',
      );
      // INTEGER, 16 octets, positive and minimal: the first octet is neither 0x00 nor has its top bit set.
      expect([der[0], der[1]]).toEqual([0x02, 16]);
      expect(der[2]! >= 0x40 && der[2]! <= 0x7f).toBe(true);
    }
    for (const pair of [certs.ca, certs.server, certs.client])
      expect(() => createSecureContext({ cert: pair.cert, key: pair.key, ca: certs.ca.cert })).not.toThrow();
  });

  it('signs the rogue certificates with a CA the sandbox CA does not vouch for', () => {
    const ca = new X509Certificate(certs.ca.cert);
    expect(new X509Certificate(certs.rogueClient.cert).verify(ca.publicKey)).toBe(false);
    expect(new X509Certificate(certs.rogueServer.cert).verify(new X509Certificate(certs.rogueCa.cert).publicKey)).toBe(true);
  });
});

describe('sandbox configuration from the environment', () => {
  it('has the documented defaults', () => {
    const config = resolveSandboxConfig(sandboxOptionsFromEnv({}, '/nonexistent'));
    expect(config).toMatchObject({ port: 3100, host: '127.0.0.1', settlementSeconds: 2, transactionsPageSize: 50, tls: undefined });
    expect(config.modes.connectpay.requireMtls).toBe(false);
    expect(config.modes.flowe.requireMtls).toBe(false);
    expect(config.connectpay.clientId).toBe('3f0c7a52-8d6e-4b8e-9a51-1c2d3e4f5a6b');
    expect(config.modes.flowe.subscriptionKeyHeader).toBe('either');
    expect(isValidIBAN(DEFAULT_REJECT_CREDITOR_IBAN)).toBe(true);
  });

  it('reads overrides', () => {
    const config = resolveSandboxConfig(
      sandboxOptionsFromEnv(
        {
          SANDBOX_PORT: '0',
          SANDBOX_REQUIRE_MTLS: 'true',
          SANDBOX_FLOWE_CLIENT_SECRET: 's3',
          SANDBOX_FLOWE_SUBSCRIPTION_KEY: 'k',
          SANDBOX_CONNECTPAY_CALLBACK_HOSTS: 'a.test, b.test',
          SANDBOX_REJECT_CREDITOR_IBAN: 'DE89370400440532013000',
        },
        '/nonexistent',
      ),
    );
    expect(config).toMatchObject({ port: 0, rejectCreditorIban: 'DE89370400440532013000' });
    expect(config.modes.connectpay.requireMtls).toBe(true);
    expect(config.modes.flowe.requireMtls).toBe(true);
    expect(config.flowe).toMatchObject({ clientSecret: 's3', subscriptionKey: 'k', clientId: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c' });
    expect(config.connectpay.callbackHosts).toEqual(['a.test', 'b.test']);
  });

  it('reads per-bank modes from SANDBOX_<BANK>_<MODE>', () => {
    const options = sandboxOptionsFromEnv(
      {
        SANDBOX_FLOWE_BUDGET_COUNTING: 'per_call',
        SANDBOX_FLOWE_CUTOFF_TIMES: '14:30, 09:00',
        SANDBOX_FLOWE_STATUS_POLL_MIN_INTERVAL_MS: '2000',
        SANDBOX_CONNECTPAY_REQUIRE_MTLS: 'true',
        SANDBOX_FLOWE_SUBSCRIPTION_KEY_HEADER: 'P0-APIKey',
        SANDBOX_CONNECTPAY_TLS_PORT: '0',
      },
      '/nonexistent',
    );
    const config = resolveSandboxConfig(options);
    expect(config.modes.flowe).toMatchObject({
      budgetCounting: 'per_call',
      cutoffTimes: ['09:00', '14:30'],
      statusPollMinIntervalMs: 2000,
      subscriptionKeyHeader: 'P0-APIKey',
      requireMtls: false,
    });
    expect(config.modes.connectpay.requireMtls).toBe(true);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_FLOWE_PSU_IP_HEADER: 'X-Forwarded-For' }, '/x')).toThrow(
      new SandboxConfigError('SANDBOX_FLOWE_PSU_IP_HEADER: psuIpHeader must be one of PSU-IP-Address, PSU-IpAddress, either'),
    );
    expect(() => sandboxOptionsFromEnv({ SANDBOX_FLOWE_TOKEN_SCOPE_REQUIRED: 'perhaps' }, '/x')).toThrow(/SANDBOX_FLOWE_TOKEN_SCOPE_REQUIRED/);
  });

  it('names the bad variable, never its value', () => {
    expect(() => sandboxOptionsFromEnv({ SANDBOX_PORT: 'http' }, '/x')).toThrow(new SandboxConfigError('SANDBOX_PORT must be an integer between 0 and 65535'));
    expect(() => sandboxOptionsFromEnv({ SANDBOX_REQUIRE_MTLS: 'maybe' }, '/x')).toThrow(/SANDBOX_REQUIRE_MTLS/);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_TLS_CERT_FILE: '/a' }, '/x')).toThrow(/SANDBOX_TLS_KEY_FILE, SANDBOX_TLS_CA_FILE/);
  });

  it('opens the TLS listener when .data/sandbox-certs/ exists', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sandbox-cwd-'));
    try {
      expect(sandboxOptionsFromEnv({}, cwd).tls).toBeUndefined();
      mkdirSync(join(cwd, '.data'));
      generateSandboxCerts(join(cwd, '.data', 'sandbox-certs'), { keyBits: 1024 });
      expect(existsSync(join(cwd, '.data', 'sandbox-certs', 'server.crt'))).toBe(true);
      const tls = sandboxOptionsFromEnv({ SANDBOX_TLS_PORT: '0' }, cwd).tls;
      expect(tls?.port).toBe(0);
      expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
