// Which user class a login belongs to, from the rules config.json carries (access.py's model).
// This only picks the role to ask STS for; the role's trust policy is what decides.

/** IAM StringLike: `*` is any run of characters, `?` exactly one; case-sensitive. */
export function stringLike(pattern, value) {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** The first class (in the model's order) whose rules match the ID token's sub, else null. */
export function classFor(sub, classes) {
  for (const [name, rules] of Object.entries(classes)) {
    if ((rules.subjects ?? []).includes(sub)) return name;
    if ((rules.subPatterns ?? []).some((pattern) => stringLike(pattern, sub))) return name;
  }
  return null;
}

/** Whether the class may call a route, e.g. mayCall(config.classes, 'admin', 'POST /pets'). */
export function mayCall(classes, className, routeId) {
  return Boolean(classes[className]?.routes?.includes(routeId));
}
