import { BankError } from '../../src/aspsp/bank-error.js';
import { BerlinGroupClient } from '../../src/aspsp/berlin-group/berlin-group.client.js';
import { psuIpForBank } from '../../src/aspsp/berlin-group/psu-ip.js';
import type { BankHttpClient, BankRequest, BankResponse } from '../../src/aspsp/http/bank-http.client.js';
import { remainingMs, withDeadline } from '../../src/aspsp/http/deadline.js';
import { SingleFlight } from '../../src/common/concurrency/single-flight.js';
import { Slots } from '../../src/common/concurrency/slots.js';
import type { BankConfig } from '../../src/config/banks.config.js';
import { testBank } from './support/bank-config.js';

const BANK: BankConfig = testBank({
  id: 'flowe',
  name: 'Flowe',
  adapter: 'flowe',
  chargeBearer: 'DEBT',
  subscriptionKey: { headers: ['PO-APIKey', 'P0-APIKey'], value: 'key' },
  psuIp: { headers: ['PSU-IP-Address', 'PSU-IpAddress'], format: 'ipv4' },
});

/** A client whose bank answers `answer` to everything, classifying it as the real HTTP client does. */
function clientAnswering(answer: BankResponse, bank: BankConfig = BANK): { client: BerlinGroupClient; sent: BankRequest[] } {
  const sent: BankRequest[] = [];
  const http = {
    send: async (req: BankRequest): Promise<BankResponse> => {
      sent.push(req);
      const refusal = answer.status >= 400 ? req.classify?.(answer) : undefined;
      if (refusal) throw refusal;
      return answer;
    },
  } as unknown as BankHttpClient;
  return { client: new BerlinGroupClient(bank, http), sent };
}

const read = (client: BerlinGroupClient, psuIpAddress?: string) =>
  client.call({ method: 'GET', operation: 'accounts', service: 'ais', path: '/accounts', accessToken: 't', consentId: 'c1', psuIpAddress });

describe('which 401 is the user’s token', () => {
  it.each([
    [
      'TOKEN_EXPIRED in tppMessages',
      { status: 401, headers: {}, body: { tppMessages: [{ category: 'ERROR', code: 'TOKEN_EXPIRED' }] } },
      'token_invalid',
      'token_invalid',
    ],
    [
      'an RFC 6750 invalid_token challenge',
      { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: undefined },
      'token_invalid',
      'token_invalid',
    ],
    [
      'a bare 401 from the API gateway',
      { status: 401, headers: {}, body: { statusCode: 401, message: 'Access denied due to invalid subscription key.' } },
      'misconfigured',
      'subscription_key_refused',
    ],
    [
      'CERTIFICATE_INVALID',
      { status: 401, headers: {}, body: { tppMessages: [{ category: 'ERROR', code: 'CERTIFICATE_INVALID' }] } },
      'misconfigured',
      'certificate_refused',
    ],
    [
      'CONSENT_EXPIRED',
      { status: 401, headers: {}, body: { tppMessages: [{ category: 'ERROR', code: 'CONSENT_EXPIRED' }] } },
      'consent_invalid',
      'consent_invalid',
    ],
  ] as const)('%s', async (_what, answer, kind, cause) => {
    const failure = await read(clientAnswering(answer as BankResponse).client).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BankError);
    expect(failure).toMatchObject({ kind, failureCause: cause });
  });

  it('calls a bare 401 from a bank without a subscription key refused_without_reason, still not the token', async () => {
    const failure = await read(clientAnswering({ status: 401, headers: {}, body: undefined }, { ...BANK, subscriptionKey: undefined }).client).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ kind: 'misconfigured', failureCause: 'refused_without_reason' });
  });
});

describe('headers sent', () => {
  it('sends the key and the PSU IP under every configured spelling, as IPv4 for an IPv4-mapped address', async () => {
    const { client, sent } = clientAnswering({ status: 200, headers: {}, body: { accounts: [] } });
    await read(client, '::ffff:198.51.100.7');
    expect(sent[0]!.headers).toMatchObject({
      'PO-APIKey': 'key',
      'P0-APIKey': 'key',
      'PSU-IP-Address': '198.51.100.7',
      'PSU-IpAddress': '198.51.100.7',
      'Consent-ID': 'c1',
    });
    await read(client);
    expect(Object.keys(sent[1]!.headers!)).not.toContain('PSU-IP-Address');
  });

  it.each([
    ['198.51.100.7', { format: 'ipv4' }, '198.51.100.7'],
    ['::FFFF:198.51.100.7', { format: 'ipv4' }, '198.51.100.7'],
    ['2001:db8::1', { format: 'ipv4', ipv6Fallback: '203.0.113.9' }, '203.0.113.9'],
    ['2001:db8::1', { format: 'ipv4' }, '2001:db8::1'],
    ['2001:db8::1', { format: 'ipv4-or-ipv6', ipv6Fallback: '203.0.113.9' }, '2001:db8::1'],
    ['fe80::1%eth0', { format: 'ipv4-or-ipv6' }, 'fe80::1'],
  ] as const)('PSU IP %s with %j is sent as %s', (ip, rules, expected) => {
    expect(psuIpForBank(ip, { headers: [], ...rules })).toBe(expected);
  });
});

describe('fairness building blocks', () => {
  it('single flight: concurrent calls with one key share one execution and its error; the next call starts afresh', async () => {
    const flights = new SingleFlight();
    let runs = 0;
    let joins = 0;
    const work = () => new Promise<number>((resolve) => setTimeout(() => resolve(++runs), 20));
    const results = await Promise.all(Array.from({ length: 5 }, () => flights.run('k', work, () => joins++)));
    expect(results).toEqual([1, 1, 1, 1, 1]);
    expect(joins).toBe(4);
    await expect(flights.run('k', work)).resolves.toBe(2);
    const failing = () => Promise.reject(new Error('bank down'));
    await expect(Promise.all([flights.run('e', failing), flights.run('e', failing)])).rejects.toThrow('bank down');
    expect(flights.size).toBe(0);
  });

  it('slots: waiters are served in order, one that gave up is skipped, and none waits past its time', async () => {
    const slots = new Slots(1, 10);
    expect(await slots.acquire(0)).toBe(true);
    const impatient = slots.acquire(10);
    const patient = slots.acquire(1000);
    expect(await impatient).toBe(false);
    slots.release();
    expect(await patient).toBe(true);
    expect(slots.idle).toBe(false);
    slots.release();
    expect(slots.idle).toBe(true);
    expect(await new Slots(1, 0).acquire(50).then(() => 'granted')).toBe('granted');
  });

  it('deadline: nested work can only shorten it, and time left never goes negative', async () => {
    expect(remainingMs(500)).toBe(500);
    await withDeadline(Date.now() + 200, async () => {
      expect(remainingMs(10_000)).toBeLessThanOrEqual(200);
      await withDeadline(Date.now() + 5_000, async () => expect(remainingMs(10_000)).toBeLessThanOrEqual(200));
      await withDeadline(Date.now() + 50, async () => expect(remainingMs(10_000)).toBeLessThanOrEqual(50));
    });
    await withDeadline(Date.now() - 10, async () => expect(remainingMs(1000)).toBe(0));
  });
});
