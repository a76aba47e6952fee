// Auth0 post-login Action: turns the user's Auth0 roles into the class claim IAM can read.
//
// IAM trust policies see only aud, sub, amr, azp of an OIDC token, and the session tags of its
// `https://aws.amazon.com/tags` claim. So a grant (an Auth0 role given to a staff member) becomes
// session tags there, and the class's trust policy conditions on `aws:RequestTag/<key>`.
// The secret CLASS_GRANTS (set by components/auth0.py from access.py) maps role names to the tags
// each grants: {"pets-prod-admin": {"pets-class": "admin"}}. The local identity provider
// (devstack/idp/server.mjs) runs the same classTags, so the local stack asserts grants the same way.

const TAGS_CLAIM = 'https://aws.amazon.com/tags';

class GrantConflict extends Error {
  constructor(message) {
    super(message);
    this.name = 'GrantConflict';
  }
}

/**
 * The tags claim for a user holding `roleNames`, or null when no role grants anything.
 * Two roles that set one tag key to different values are a conflict: no class is guessed.
 */
function classTags(roleNames, grants) {
  // A Map: a tag key such as `__proto__` would not become an own property of a plain object.
  const tags = new Map();
  for (const role of roleNames ?? []) {
    if (!Object.hasOwn(grants, role)) continue;
    for (const [key, value] of Object.entries(grants[role])) {
      if (tags.has(key) && tags.get(key) !== value) {
        throw new GrantConflict(`roles grant both ${key}=${tags.get(key)} and ${key}=${value}`);
      }
      tags.set(key, value);
    }
  }
  if (tags.size === 0) return null;
  const keys = [...tags.keys()].sort();
  // No transitive_tag_keys: role chaining must not carry a class grant into another role.
  return { principal_tags: Object.fromEntries(keys.map((key) => [key, [tags.get(key)]])) };
}

function parseGrants(text) {
  let grants;
  try {
    grants = JSON.parse(text ?? '');
  } catch {
    throw new Error('the CLASS_GRANTS secret is not JSON');
  }
  if (!isPlainObject(grants)) {
    throw new Error('the CLASS_GRANTS secret must map role names to tags');
  }
  // A malformed grant would otherwise become odd tags (a string's characters, a number).
  for (const [role, tags] of Object.entries(grants)) {
    if (!isPlainObject(tags) || Object.keys(tags).length === 0) {
      throw new Error(`the CLASS_GRANTS secret: ${role} must map tag names to values`);
    }
    for (const [key, value] of Object.entries(tags)) {
      if (key === '' || typeof value !== 'string' || value === '') {
        throw new Error(`the CLASS_GRANTS secret: ${role} must map tag names to non-empty strings`);
      }
    }
  }
  return grants;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

exports.onExecutePostLogin = async (event, api) => {
  let claim;
  try {
    claim = classTags(event.authorization?.roles, parseGrants(event.secrets?.CLASS_GRANTS));
  } catch (error) {
    // A broken grant must not log anyone in with a guessed class.
    api.access.deny(`class grant: ${error.message}`);
    return;
  }
  if (claim) api.idToken.setCustomClaim(TAGS_CLAIM, claim);
};

exports.classTags = classTags;
exports.parseGrants = parseGrants;
exports.GrantConflict = GrantConflict;
exports.TAGS_CLAIM = TAGS_CLAIM;
