// Which user class a login belongs to, from the rules config.json carries (access.py's model).
// This only picks the role to ask STS for; the role's trust policy is what decides.

// The ID token claim IAM reads session tags from (auth0/post-login.js sets it from a grant).
export const TAGS_CLAIM = 'https://aws.amazon.com/tags';

/** IAM StringLike: `*` is any run of characters, `?` exactly one; case-sensitive. */
export function stringLike(pattern, value) {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** Whether the token's principal_tags ({key: [value]}) carry every tag the class asks for. */
function hasTags(claims, wanted) {
  const entries = Object.entries(wanted ?? {});
  if (!entries.length) return false;
  const tags = claims?.[TAGS_CLAIM]?.principal_tags ?? {};
  return entries.every(([key, value]) => Object.hasOwn(tags, key)
    && [].concat(tags[key]).includes(value));
}

/**
 * The first class (in the model's order) whose rules match the ID token's claims, else null.
 * claims: the token's payload (oidc-client-ts's user.profile): sub and the tags claim.
 */
export function classFor(claims, classes) {
  const sub = claims?.sub ?? '';
  for (const [name, rules] of Object.entries(classes)) {
    if ((rules.subjects ?? []).includes(sub)) return name;
    if ((rules.subPatterns ?? []).some((pattern) => stringLike(pattern, sub))) return name;
    if (hasTags(claims, rules.sessionTags)) return name;
  }
  return null;
}

/** Whether the class may call a route, e.g. mayCall(config.classes, 'admin', 'POST /pets'). */
export function mayCall(classes, className, routeId) {
  return Boolean(classes[className]?.routes?.includes(routeId));
}
