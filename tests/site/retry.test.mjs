// The site's retry policy (site/retry.js), run by `node --test` (make test-node, part of
// make test). Time and chance are arguments: every wait below is computed, none is slept.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  POLICY, RETRYABLE_STATUSES, backoffMs, isRetryable, nextTry, parseRetryAfter, withRetries,
} from '../../site/retry.js';

const NOW = Date.parse('2026-12-04T10:00:00Z');
const always = (value) => () => value;

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('3', NOW), 3000);
    assert.equal(parseRetryAfter(' 0 ', NOW), 0);
  });

  it('reads an HTTP-date, a past one as no wait', () => {
    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 10:00:02 GMT', NOW), 2000);
    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 09:59:00 GMT', NOW), 0);
  });

  it('ignores what it cannot read: the backoff alone decides then', () => {
    for (const value of [undefined, null, '', 'soon', '-1', '1.5', '2026-12-04T10:00:02Z', '3 s']) {
      assert.equal(parseRetryAfter(value, NOW), null, String(value));
    }
  });

  it('caps a huge wait', () => {
    assert.equal(parseRetryAfter('86400', NOW), POLICY.maxRetryAfterMs);
    assert.equal(parseRetryAfter('Fri, 04 Dec 2027 10:00:00 GMT', NOW), POLICY.maxRetryAfterMs);
  });
});

describe('backoffMs: full jitter below a ceiling that doubles up to a cap', () => {
  it('is drawn from zero to just below the ceiling', () => {
    assert.equal(backoffMs(1, always(0)), 0);
    assert.equal(backoffMs(1, always(0.5)), 150);
    assert.equal(backoffMs(1, always(0.9999)), 299);
    assert.equal(backoffMs(2, always(0.9999)), 599);
    assert.equal(backoffMs(3, always(0.9999)), 1199);
  });

  it('never exceeds the cap', () => {
    for (let retry = 1; retry <= 20; retry += 1) {
      assert.ok(backoffMs(retry, always(0.9999)) < POLICY.capMs, `retry ${retry}`);
    }
    assert.equal(backoffMs(10, always(0.5)), POLICY.capMs / 2);
  });
});

describe('isRetryable', () => {
  it('retries throttling, unavailability, gateway failures and no answer', () => {
    assert.deepEqual([...RETRYABLE_STATUSES], [0, 429, 502, 503, 504]);
    for (const status of RETRYABLE_STATUSES) assert.ok(isRetryable(status), String(status));
  });

  it('never retries a refusal or an unexpected failure', () => {
    for (const status of [400, 401, 403, 404, 409, 422, 500, 501]) {
      assert.equal(isRetryable(status, { retryAfterMs: 1000 }), false, String(status));
    }
  });

  it('retries a keyed request whose first try is still under way (409 with Retry-After)', () => {
    assert.ok(isRetryable(409, { retryAfterMs: 1000, keyed: true }));
    assert.equal(isRetryable(409, { retryAfterMs: null, keyed: true }), false);
    assert.equal(isRetryable(409, { retryAfterMs: 1000, keyed: false }), false);
  });
});

describe('nextTry', () => {
  const base = { startedMs: NOW, nowMs: NOW + 100, random: always(0.5) };

  it('gives up at once on a refusal', () => {
    assert.deepEqual(nextTry({ ...base, tries: 1, status: 403 }), { giveUp: 'refused' });
    assert.deepEqual(nextTry({ ...base, tries: 1, status: 409, retryAfterMs: 1000 }),
      { giveUp: 'refused' });
  });

  it('waits the jittered backoff, then gives up after the third try', () => {
    assert.deepEqual(nextTry({ ...base, tries: 1, status: 503 }), { waitMs: 150 });
    assert.deepEqual(nextTry({ ...base, tries: 2, status: 0 }), { waitMs: 300 });
    assert.deepEqual(nextTry({ ...base, tries: 3, status: 429 }), { giveUp: 'tries' });
  });

  it('honours Retry-After as a minimum, with the jitter on top', () => {
    assert.deepEqual(nextTry({ ...base, tries: 1, status: 429, retryAfterMs: 2000 }),
      { waitMs: 2150 });
  });

  it('does not sleep past the budget for a Retry-After: it gives up and says why', () => {
    const late = { ...base, nowMs: NOW + 3500 };
    assert.deepEqual(nextTry({ ...late, tries: 1, status: 503, retryAfterMs: 1500 }),
      { giveUp: 'retry-after' });
    assert.deepEqual(nextTry({ ...base, tries: 1, status: 429, retryAfterMs: 30_000 }),
      { giveUp: 'retry-after' });
  });

  it('cuts the jitter at the budget, and gives up once it is spent', () => {
    const late = { ...base, nowMs: NOW + 4900, random: always(0.9999) };
    assert.deepEqual(nextTry({ ...late, tries: 1, status: 502, retryAfterMs: 50 }), { waitMs: 100 });
    assert.deepEqual(nextTry({ ...base, nowMs: NOW + 5000, tries: 1, status: 502 }),
      { giveUp: 'budget' });
  });
});

/** A clock that only moves when the code under test sleeps or a try takes time. */
function fakeTime() {
  let now = NOW;
  return {
    now: () => now,
    sleep: async (ms) => { now += ms; },
    spend: (ms) => { now += ms; },
    elapsed: () => now - NOW,
  };
}

function answer(status, retryAfterMs = null) {
  return Object.assign(new Error(`HTTP ${status}`), { status, retryAfterMs });
}

describe('withRetries', () => {
  it('recovers from two failures, announcing each retry', async () => {
    const time = fakeTime();
    const retries = [];
    const failures = [answer(429, 1000), answer(0)];
    const result = await withRetries(async (n) => {
      if (failures.length) throw failures.shift();
      return `ok on try ${n}`;
    }, { ...time, random: always(0), onRetry: (info) => retries.push(info) });
    assert.equal(result, 'ok on try 3');
    assert.deepEqual(retries, [
      { tryNumber: 2, tries: 3, waitMs: 1000, status: 429 },
      { tryNumber: 3, tries: 3, waitMs: 0, status: 0 },
    ]);
    assert.equal(time.elapsed(), 1000);
  });

  it('gives up after three tries, saying how many and why', async () => {
    const time = fakeTime();
    let calls = 0;
    await assert.rejects(
      withRetries(async () => { calls += 1; throw answer(503); }, { ...time, random: always(0.5) }),
      (error) => error.status === 503 && error.tries === 3 && error.gaveUp === 'tries',
    );
    assert.equal(calls, 3);
  });

  it('tries a refusal once', async () => {
    for (const status of [401, 403, 404, 409, 422]) {
      let calls = 0;
      await assert.rejects(
        withRetries(async () => { calls += 1; throw answer(status, 1000); }, fakeTime()),
        (error) => error.tries === 1 && error.gaveUp === 'refused',
      );
      assert.equal(calls, 1, String(status));
    }
  });

  it('throws what is no answer of the API at once, untouched', async () => {
    const noCredentials = new Error('your login has expired');
    let calls = 0;
    await assert.rejects(
      withRetries(async () => { calls += 1; throw noCredentials; }, fakeTime()),
      (error) => error === noCredentials && error.tries === undefined,
    );
    assert.equal(calls, 1);
  });

  it('retries a keyed 409 with Retry-After until the first try has answered', async () => {
    const time = fakeTime();
    const failures = [answer(409, 200)];
    const result = await withRetries(async () => {
      if (failures.length) throw failures.shift();
      return 'the first answer';
    }, { ...time, keyed: true, random: always(0) });
    assert.equal(result, 'the first answer');
  });

  it('keeps every call within 3 tries and 5 s of waiting, whatever the API answers', async () => {
    // A seeded generator: the same 2,000 cases on every run.
    let seed = 42;
    const random = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed / 2 ** 31; };
    const statuses = [0, 429, 502, 503, 504, 500, 403];
    for (let n = 0; n < 2000; n += 1) {
      const time = fakeTime();
      const starts = [];
      await withRetries(async () => {
        starts.push(time.elapsed());
        time.spend(Math.floor(random() * 1500)); // the try itself takes time
        const retryAfter = random() < 0.5 ? Math.floor(random() * 4000) : null;
        throw answer(statuses[Math.floor(random() * statuses.length)], retryAfter);
      }, { ...time, random }).catch((error) => {
        assert.ok(['refused', 'tries', 'retry-after', 'budget'].includes(error.gaveUp));
        assert.equal(error.tries, starts.length);
      });
      assert.ok(starts.length <= POLICY.tries, `case ${n}: ${starts.length} tries`);
      assert.ok(starts.at(-1) <= POLICY.budgetMs, `case ${n}: a try started at ${starts.at(-1)} ms`);
    }
  });
});
