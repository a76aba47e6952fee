// The site's API client (site/api.js) with its retries, against a stubbed fetch: what each
// try sends (signed anew, with the same Idempotency-Key), what it reads (Retry-After), and
// how a failure is worded. Needs the vendored aws4fetch (make site; make test-node does it).

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { ApiError, PetsApi, describeApiError, gaveUpRetrying } from '../../site/api.js';

const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

/** fetch answers these in turn (a number: that status, JSON; 'drop': a network failure) and
 * records each request it got. */
function stubFetch(answers) {
  const seen = [];
  globalThis.fetch = async (request) => {
    seen.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers),
                body: await request.text() });
    const next = answers.shift() ?? 200;
    if (next === 'drop') throw new TypeError('fetch failed');
    const [status, headers = {}, body = { error: `HTTP ${next}` }] = Array.isArray(next) ? next : [next];
    return new Response(JSON.stringify(status < 300 ? { pets: [], petId: 'p1' } : body),
      { status, headers: { 'Content-Type': 'application/json', ...headers } });
  };
  return seen;
}

/** An API whose credentials change on every try (as a renewed session's would), and whose
 * waits are recorded instead of slept. */
function api() {
  let issued = 0;
  const waits = [];
  const retries = [];
  const petsApi = new PetsApi({
    apiUrl: 'https://api.example.test/prod/',
    region: 'us-east-1',
    credentials: async () => {
      issued += 1;
      return { accessKeyId: `ASIA${issued}`, secretAccessKey: 'secret', sessionToken: `token${issued}` };
    },
    onRetry: (info) => retries.push(info),
    retry: { sleep: async (ms) => { waits.push(ms); }, random: () => 0 },
  });
  return { petsApi, waits, retries, issued: () => issued };
}

const akid = (request) => /Credential=([^/]+)\//.exec(request.headers.authorization)[1];

describe('PetsApi retries', () => {
  it('signs every try anew with the credentials of the moment', async () => {
    const seen = stubFetch([429, 'drop', 200]);
    const { petsApi, retries, issued } = api();
    assert.deepEqual(await petsApi.page(undefined, 'id-token'), { pets: [], petId: 'p1' });
    assert.equal(seen.length, 3);
    assert.equal(issued(), 3);
    assert.deepEqual(seen.map(akid), ['ASIA1', 'ASIA2', 'ASIA3']);
    assert.deepEqual(seen.map((r) => r.headers['x-amz-security-token']), ['token1', 'token2', 'token3']);
    assert.ok(seen.every((r) => r.headers['x-id-token'] === 'id-token'));
    assert.deepEqual(retries.map((r) => r.tryNumber), [2, 3]);
  });

  it('sends one add with the same Idempotency-Key and body on every try', async () => {
    const seen = stubFetch([502, 'drop', 201]);
    const { petsApi } = api();
    await petsApi.add('Parrot', 12.5, 'key-1');
    assert.equal(seen.length, 3);
    assert.deepEqual(new Set(seen.map((r) => r.headers['idempotency-key'])), new Set(['key-1']));
    assert.deepEqual(new Set(seen.map((r) => r.body)), new Set(['{"type":"Parrot","price":12.5}']));
  });

  it('waits as long as Retry-After says', async () => {
    stubFetch([[503, { 'Retry-After': '2' }], 200]);
    const { petsApi, waits } = api();
    await petsApi.purchase('p1', 'id-token');
    assert.deepEqual(waits, [2000]);
  });

  it('gives up when Retry-After asks for more than the budget left', async () => {
    const seen = stubFetch([[429, { 'Retry-After': '30' }, { message: 'Too Many Requests' }]]);
    const { petsApi, waits } = api();
    const error = await petsApi.page().catch((e) => e);
    assert.equal(seen.length, 1);
    assert.deepEqual(waits, []);
    assert.ok(gaveUpRetrying(error));
    assert.equal(describeApiError(error, 'list the pets', 'buyer'),
      'Could not list the pets: the API is busy (HTTP 429) and asks to wait 30 s; try again then.');
  });

  it('does not retry a refusal', async () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      const seen = stubFetch([status, 200]);
      const error = await api().petsApi.purchase('p1', 'id-token').catch((e) => e);
      assert.equal(seen.length, 1, String(status));
      assert.equal(error.status, status);
      assert.equal(gaveUpRetrying(error), false);
    }
  });

  it('lists once, unannounced, when asked to (a refresh after another outcome)', async () => {
    const seen = stubFetch([503, 200]);
    const { petsApi, retries } = api();
    const error = await petsApi.page(undefined, 'id-token', { once: true }).catch((e) => e);
    assert.equal(seen.length, 1);
    assert.deepEqual(retries, []);
    assert.equal(error.status, 503);
  });

  it('takes a 404 after a failed try of a removal as done: the pet is gone', async () => {
    stubFetch(['drop', [404, {}, { error: 'no such pet' }]]);
    assert.equal(await api().petsApi.remove('p1'), null);
    stubFetch([[404, {}, { error: 'no such pet' }]]);
    const error = await api().petsApi.remove('p1').catch((e) => e);
    assert.equal(error.status, 404);
  });
});

describe('describeApiError after the retries', () => {
  const gaveUp = (status, message, tries, reason = 'tries') => Object.assign(
    new ApiError(status, message), { tries, gaveUp: reason });

  it('tells a busy or unreachable API from a refusal', () => {
    const cases = [
      [gaveUp(429, 'Too Many Requests', 3),
        'the API is busy (HTTP 429: Too Many Requests), still after 3 tries; try again in a moment'],
      [gaveUp(503, 'table busy', 2, 'budget'),
        'the API is busy (HTTP 503: table busy), still after 2 tries; try again in a moment'],
      [gaveUp(0, 'Failed to fetch', 3),
        'the API could not be reached (network error: Failed to fetch), still after 3 tries; '
        + 'try again in a moment'],
      [gaveUp(504, 'Endpoint request timed out', 3),
        'the API failed (HTTP 504: Endpoint request timed out), still after 3 tries; try again in a moment'],
      [gaveUp(403, 'User: ... is not authorized', 1, 'refused'), 'not allowed for your role (buyer)'],
      [gaveUp(409, 'pet already sold', 1, 'refused'), 'pet already sold'],
    ];
    for (const [error, why] of cases) {
      assert.equal(describeApiError(error, 'buy the Parrot', 'buyer'), `Could not buy the Parrot: ${why}.`);
    }
  });
});
