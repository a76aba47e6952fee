// config.json: written by the stack (components/site_content.py app_config), read once at start.

export class ConfigError extends Error {}

const REQUIRED_STRINGS = ['region', 'apiUrl', 'issuer', 'clientId', 'scope', 'stsEndpoint'];
// What the site does (site/main.js); config.json names the route each calls.
export const ACTIONS = ['list', 'add', 'remove', 'buy'];

/** Fetches and checks config.json; every problem becomes a ConfigError that says what is wrong. */
export async function loadConfig(url = 'config.json') {
  let response;
  try {
    // no-store: a cached config.json could name roles of a previous deployment.
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    throw new ConfigError(`cannot load ${url}: ${error.message}`);
  }
  if (!response.ok) {
    throw new ConfigError(`cannot load ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  let config;
  try {
    config = await response.json();
  } catch {
    throw new ConfigError(`${url} is not valid JSON`);
  }
  return checkConfig(config, url);
}

export function checkConfig(config, source = 'config.json') {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError(`${source} must be a JSON object`);
  }
  const missing = REQUIRED_STRINGS.filter((key) => typeof config[key] !== 'string' || !config[key]);
  if (missing.length) throw new ConfigError(`${source} lacks ${missing.join(', ')}`);
  // The client's registered scope: a login without openid would bring no ID token for STS.
  if (!config.scope.split(' ').includes('openid')) {
    throw new ConfigError(`${source}: scope ${JSON.stringify(config.scope)} lacks openid`);
  }
  for (const key of ['roles', 'classes', 'actions']) {
    if (config[key] === null || typeof config[key] !== 'object') {
      throw new ConfigError(`${source} lacks ${key}`);
    }
  }
  for (const name of Object.keys(config.classes)) {
    if (typeof config.roles[name] !== 'string') {
      throw new ConfigError(`${source}: user class ${name} has no role`);
    }
  }
  const unnamed = ACTIONS.filter((action) => typeof config.actions[action] !== 'string');
  if (unnamed.length) {
    throw new ConfigError(`${source}: actions lacks the route of ${unnamed.join(', ')}`);
  }
  return config;
}
