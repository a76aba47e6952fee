// The pets API (handlers/app.py): SigV4-signed with the role's credentials (aws4fetch), each
// call retried as site/retry.js decides.

import { AwsClient } from './vendor/aws4fetch.js';
import { POLICY, parseRetryAfter, withRetries } from './retry.js';

/** Pets per page the site shows (GET /pets answers 1 to 100; 50 is its default too). */
export const PAGE_SIZE = 50;

export class ApiError extends Error {
  /**
   * status: the HTTP status, or 0 when no answer could be read (network or CORS failure).
   * retryAfterMs: the answer's Retry-After in ms, or null. The retry loop adds `tries` and
   * `gaveUp` (site/retry.js) to the error that ended a call.
   */
  constructor(status, message, retryAfterMs = null) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

const failureOf = (error) => (error instanceof ApiError
  ? { status: error.status, retryAfterMs: error.retryAfterMs } : null);

export class PetsApi {
  /**
   * credentials(): a promise of {accessKeyId, secretAccessKey, sessionToken} (RoleSession),
   * asked again for every try: a session about to expire is renewed between two tries.
   * onRetry(info): a try failed and another follows (site/retry.js withRetries).
   * retry: options for withRetries (policy, random, now, sleep), the site's own by default.
   */
  constructor({ apiUrl, region, credentials, onRetry = () => {}, retry = {} }) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
    this.region = region;
    this.credentials = credentials;
    this.onRetry = onRetry;
    this.retry = retry;
  }

  /**
   * One page of GET /pets, newest first: {pets, nextCursor}, nextCursor absent on the last
   * page. cursor: the previous page's nextCursor (the pets older than that page), or
   * nothing for the first page. idToken: the user's, so the API can tell the buyer of a sold
   * pet (who alone, with admins, is told who bought it). once: one try, no retry announced
   * (a refresh after another call's outcome, which must stay on the page).
   */
  async page(cursor, idToken, { once = false } = {}) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    const headers = idToken ? { 'X-Id-Token': idToken } : {};
    const page = await this._call('GET', `/pets?${query}`, { headers, once });
    if (!Array.isArray(page?.pets)) throw new ApiError(200, 'the API answered no list of pets');
    return page;
  }

  /**
   * idempotencyKey: one per pet the user adds, sent again on every retry of it, so a try
   * whose answer was lost is answered again instead of adding a second pet.
   */
  add(type, price, idempotencyKey) {
    return this._call('POST', '/pets', {
      body: { type, price }, headers: { 'Idempotency-Key': idempotencyKey }, keyed: true,
    });
  }

  /**
   * DELETE is retried like a read: removing a pet twice leaves it as removing it once. A 404
   * after a failed try means the pet is gone (that try removed it and its answer was lost,
   * or someone else did): what was asked is done, so that is no failure.
   */
  async remove(petId) {
    try {
      return await this._call('DELETE', `/pets/${encodeURIComponent(petId)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.tries > 1) return null;
      throw error;
    }
  }

  /**
   * The API records the buyer from the ID token, not from the (shared) role; a retried
   * purchase by the same buyer is answered with the same sale.
   */
  purchase(petId, idToken) {
    return this._call('POST', '/pets/purchase', { body: { petId }, headers: { 'X-Id-Token': idToken } });
  }

  _call(method, path, { body, headers = {}, keyed = false, once = false } = {}) {
    const retry = { keyed, onRetry: this.onRetry, failure: failureOf, ...this.retry };
    if (once) retry.policy = { ...(retry.policy ?? POLICY), tries: 1 };
    return withRetries(() => this._try(method, path, body, headers), retry);
  }

  /** One try: credentials asked again and the request signed anew (a fresh X-Amz-Date). */
  async _try(method, path, body, headers) {
    const { accessKeyId, secretAccessKey, sessionToken } = await this.credentials();
    // retries: 0: aws4fetch would retry 5xx ten times, blindly; site/retry.js decides instead.
    const client = new AwsClient({
      accessKeyId, secretAccessKey, sessionToken, service: 'execute-api', region: this.region, retries: 0,
    });
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
      response = await client.fetch(`${this.apiUrl}${path}`, init);
    } catch (error) {
      // fetch rejects without a status for network failures and for answers CORS hides.
      throw new ApiError(0, error.message);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page, say): described by its status below.
    }
    if (!response.ok) {
      // The API says {"error": ...}; API Gateway's own refusals say {"message"|"Message": ...}.
      const message = data?.error ?? data?.message ?? data?.Message ?? response.statusText;
      throw new ApiError(response.status, String(message || `HTTP ${response.status}`),
        parseRetryAfter(response.headers.get('Retry-After'), Date.now()));
    }
    return data;
  }
}

/** A failed call in words: `Could not <action>: <why>.` */
export function describeApiError(error, action, className) {
  let why;
  if (!(error instanceof ApiError)) {
    why = error.message;
  } else if (error.gaveUp && error.gaveUp !== 'refused') {
    why = gaveUpWhy(error);
  } else if (error.status === 0) {
    why = `the API could not be reached (network error: ${error.message})`;
  } else if (error.status === 403 && /expired/i.test(error.message)) {
    why = 'your credentials have expired; try again';
  } else if (error.status === 403) {
    why = `not allowed for your role (${className})`;
  } else if (error.status === 409) {
    why = error.message.includes('already sold') ? error.message : `${error.message} (already sold)`;
  } else if (error.status === 400) {
    why = error.message;
  } else if (error.status === 401) {
    why = `the API did not accept your login (${error.message}); log in again`;
  } else if (error.status === 404) {
    why = `${error.message} (someone may have removed it; the list is refreshed)`;
  } else {
    why = `the API failed with HTTP ${error.status}: ${error.message}`;
  }
  return `Could not ${action}: ${why}.`;
}

/** Why a call that was worth retrying failed in the end: the API was busy or failing on
 * every try, or asked for a longer wait than the site gives a call. */
function gaveUpWhy(error) {
  const { status, message } = error;
  if (error.gaveUp === 'retry-after') {
    return `the API is busy (HTTP ${status}) and asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s; `
      + 'try again then';
  }
  let what;
  if (status === 0) what = `the API could not be reached (network error: ${message})`;
  else if (status === 409) what = `the API was still working on this request (${message})`;
  else if (status === 429 || status === 503) what = `the API is busy (HTTP ${status}: ${message})`;
  else what = `the API failed (HTTP ${status}: ${message})`;
  const tries = `${error.tries} tr${error.tries === 1 ? 'y' : 'ies'}`;
  return `${what}, still after ${tries}; try again in a moment`;
}


/** Whether the call failed only because the API stayed busy or unreachable through every try
 * (its outcome may be unknown), as opposed to being refused. */
export function gaveUpRetrying(error) {
  return error instanceof ApiError && Boolean(error.gaveUp) && error.gaveUp !== 'refused';
}
