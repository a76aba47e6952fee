// The pets API (handlers/app.py): SigV4-signed with the role's credentials (aws4fetch).

import { AwsClient } from './vendor/aws4fetch.js';

/** Pets per page the site shows (GET /pets answers 1 to 100; 50 is its default too). */
export const PAGE_SIZE = 50;

export class ApiError extends Error {
  /** status: the HTTP status, or 0 when no answer could be read (network or CORS failure). */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class PetsApi {
  /** credentials(): a promise of {accessKeyId, secretAccessKey, sessionToken} (RoleSession). */
  constructor({ apiUrl, region, credentials }) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
    this.region = region;
    this.credentials = credentials;
  }

  /**
   * One page of GET /pets, newest first: {pets, nextCursor}, nextCursor absent on the last
   * page. cursor: the previous page's nextCursor (the pets older than that page), or
   * nothing for the first page.
   */
  async page(cursor) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    const page = await this._call('GET', `/pets?${query}`);
    if (!Array.isArray(page?.pets)) throw new ApiError(200, 'the API answered no list of pets');
    return page;
  }

  add(type, price) {
    return this._call('POST', '/pets', { body: { type, price } });
  }

  remove(petId) {
    return this._call('DELETE', `/pets/${encodeURIComponent(petId)}`);
  }

  /** The API records the buyer from the ID token, not from the (shared) role. */
  purchase(petId, idToken) {
    return this._call('POST', '/pets/purchase', { body: { petId }, headers: { 'X-Id-Token': idToken } });
  }

  async _call(method, path, { body, headers = {} } = {}) {
    const { accessKeyId, secretAccessKey, sessionToken } = await this.credentials();
    // retries: 0 — aws4fetch retries 5xx ten times by default, which would hide failures for seconds.
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
      throw new ApiError(response.status, String(message || `HTTP ${response.status}`));
    }
    return data;
  }
}

/** A failed call in words: `Could not <action>: <why>.` */
export function describeApiError(error, action, className) {
  let why;
  if (!(error instanceof ApiError)) {
    why = error.message;
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
