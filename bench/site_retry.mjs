// The site's own API client and retry policy (site/api.js, site/retry.js: the code the browser
// runs, unchanged) under Node, for bench/load.py: `callers` users each listing the pets one
// call after another for `seconds`, while the bench overloads the stage. Every try is counted
// by status (0: no answer), every logical call by its outcome. Input: JSON on stdin; output:
// JSON on stdout.

import { PetsApi } from '../site/api.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { apiUrl, region, credentials, idToken, callers, seconds } = JSON.parse(Buffer.concat(chunks));

// Every try the site makes goes through fetch: count what each was answered.
const tries = {};
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  try {
    const response = await realFetch(...args);
    tries[response.status] = (tries[response.status] ?? 0) + 1;
    return response;
  } catch (error) {
    tries[0] = (tries[0] ?? 0) + 1;
    throw error;
  }
};

const calls = []; // { ms, tries, outcome }: outcome 'ok' | 'refused' | the gaveUp reason
const deadline = performance.now() + seconds * 1000;

async function user() {
  let retries = 0;
  const api = new PetsApi({
    apiUrl, region, credentials: async () => credentials, onRetry: () => { retries += 1; },
  });
  while (performance.now() < deadline) {
    retries = 0;
    const started = performance.now();
    let outcome = 'ok';
    let made = null;
    try {
      await api.page(undefined, idToken);
    } catch (error) {
      if (!error.gaveUp) throw error; // no answer of the API's: a bug of the bench, stop
      outcome = error.gaveUp === 'refused' ? `refused ${error.status}` : error.gaveUp;
      made = error.tries;
    }
    calls.push({ ms: performance.now() - started, tries: made ?? retries + 1, outcome });
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: callers }, user));
process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, tries, calls }));
