// When the site tries an API call again, and how long it waits first. Pure functions of
// plain values (the clock and the random source are arguments, so they can be tested), and
// one loop that applies them. No browser API: Node runs it too (tests/site/, bench/).

/**
 * tries: the first try and the retries, at most. budgetMs: no retry starts later than this
 * after the first try started (a try under way is not cut short: API Gateway ends it within
 * its own 29 s). baseMs/capMs: the backoff ceiling doubles from baseMs with each retry, up
 * to capMs; the wait is drawn anywhere below it (full jitter), so clients throttled together
 * do not come back together. maxRetryAfterMs: a longer Retry-After is read as this long (it
 * exceeds the budget either way; the message then names at most this wait).
 */
export const POLICY = Object.freeze({
  tries: 3, budgetMs: 5000, baseMs: 300, capMs: 2000, maxRetryAfterMs: 60_000,
});

/**
 * Answers worth another try: 429 (throttled: nothing was done), 502 and 504 (the function
 * failed or timed out), 503 (the table or the issuer's keys unavailable), and 0, no answer at
 * all (fetch rejected: the network, a dropped connection, or a cross-origin error the
 * browser hides because it carries no CORS headers). Every other 4xx is the API's refusal:
 * the same request would be refused again.
 */
export const RETRYABLE_STATUSES = Object.freeze([0, 429, 502, 503, 504]);

/**
 * Whether a failed try is worth another. keyed: the request carries an Idempotency-Key;
 * then a 409 that comes with Retry-After is the API saying the first try with this key is
 * still under way (its answer is coming), not a refusal.
 */
export function isRetryable(status, { retryAfterMs = null, keyed = false } = {}) {
  if (RETRYABLE_STATUSES.includes(status)) return true;
  return keyed && status === 409 && retryAfterMs !== null;
}

const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Retry-After in ms from now: delay-seconds ("3") or an HTTP-date ("Wed, 21 Oct 2026
 * 07:28:00 GMT"; a date already past is 0). null when absent or unreadable: then the backoff
 * alone decides. Capped at policy.maxRetryAfterMs.
 */
export function parseRetryAfter(value, nowMs, policy = POLICY) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  let ms = null;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else if (HTTP_DATE.test(text)) ms = Math.max(0, Date.parse(text) - nowMs);
  if (ms === null || Number.isNaN(ms)) return null;
  return Math.min(ms, policy.maxRetryAfterMs);
}

/** The wait before retry number `retry` (1 for the first retry): full jitter, in whole ms. */
export function backoffMs(retry, random, policy = POLICY) {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * What to do after try number `tries` failed with `status` (0: no answer), at nowMs, the first
 * try having started at startedMs:
 *   { waitMs }          wait that long, then try again;
 *   { giveUp: reason }  'refused' (not retryable), 'tries' (none left), 'retry-after' (the
 *                       API asks for a wait longer than the budget left: we do not sleep past
 *                       the budget, and say so), 'budget' (no time left for another try).
 * Retry-After is the API's minimum: the jittered backoff is added on top of it, but never
 * beyond the budget.
 */
export function nextTry({
  tries, status, retryAfterMs = null, keyed = false, startedMs, nowMs, random, policy = POLICY,
}) {
  if (!isRetryable(status, { retryAfterMs, keyed })) return { giveUp: 'refused' };
  if (tries >= policy.tries) return { giveUp: 'tries' };
  const leftMs = policy.budgetMs - (nowMs - startedMs);
  if (leftMs <= 0) return { giveUp: 'budget' };
  if (retryAfterMs !== null && retryAfterMs >= leftMs) return { giveUp: 'retry-after' };
  return { waitMs: Math.min((retryAfterMs ?? 0) + backoffMs(tries, random, policy), leftMs) };
}

/** A failed try as the loop needs it: { status, retryAfterMs }, or null when the error is
 * no answer of the API's (e.g. no credentials): such errors are thrown at once. */
export function defaultFailure(error) {
  return typeof error?.status === 'number'
    ? { status: error.status, retryAfterMs: error.retryAfterMs ?? null } : null;
}

const realSleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Calls tryOnce(tryNumber) until it resolves or nextTry gives up. The error that ends it is
 * thrown with two more fields: `tries` (how many were made) and `gaveUp` (nextTry's reason).
 * onRetry({ tryNumber, tries, waitMs, status }) is called before each wait: try `tryNumber`
 * of at most `tries` comes next.
 */
export async function withRetries(tryOnce, {
  keyed = false, policy = POLICY, random = Math.random, now = Date.now, sleep = realSleep,
  onRetry = () => {}, failure = defaultFailure,
} = {}) {
  const startedMs = now();
  for (let tries = 1; ; tries += 1) {
    try {
      return await tryOnce(tries);
    } catch (error) {
      const failed = failure(error);
      if (failed === null) throw error;
      const decision = nextTry({
        tries, ...failed, keyed, startedMs, nowMs: now(), random, policy,
      });
      if (decision.giveUp) {
        Object.assign(error, { tries, gaveUp: decision.giveUp });
        throw error;
      }
      onRetry({ tryNumber: tries + 1, tries: policy.tries, waitMs: decision.waitMs,
                status: failed.status });
      await sleep(decision.waitMs);
    }
  }
}
