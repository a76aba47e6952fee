// STS AssumeRoleWithWebIdentity: an unsigned call (the ID token is the proof), XML answer.

export const SESSION_SECONDS = 3600;
const STS_NS = '*'; // STS answers in its own default namespace; match any.

export class StsError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** RoleSessionName allows [\w+=,.@-]{2,64}; the sub (`auth0|alice`) names the session in logs. */
export function sessionName(sub) {
  const name = String(sub).replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return name.length >= 2 ? name : `pets-${name}`;
}

function text(doc, tag) {
  return doc.getElementsByTagNameNS(STS_NS, tag)[0]?.textContent?.trim() ?? '';
}

/** Credentials from an STS answer, or a StsError that carries STS's code and message. */
export function parseStsResponse(status, body) {
  const doc = new DOMParser().parseFromString(body, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) {
    throw new StsError('BadResponse', `STS answered HTTP ${status} with something other than XML`);
  }
  if (status !== 200 || doc.getElementsByTagNameNS(STS_NS, 'Error').length) {
    const code = text(doc, 'Code') || `HTTP${status}`;
    throw new StsError(code, text(doc, 'Message') || `STS answered HTTP ${status}`);
  }
  const credentials = {
    accessKeyId: text(doc, 'AccessKeyId'),
    secretAccessKey: text(doc, 'SecretAccessKey'),
    sessionToken: text(doc, 'SessionToken'),
    expiration: new Date(text(doc, 'Expiration')),
  };
  if (!credentials.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken
      || Number.isNaN(credentials.expiration.getTime())) {
    throw new StsError('BadResponse', 'STS answer lacks credentials');
  }
  return credentials;
}

/** Temporary credentials of roleArn for the holder of idToken. */
export async function assumeRoleWithWebIdentity({ endpoint, roleArn, idToken, sub }) {
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: sessionName(sub),
    WebIdentityToken: idToken,
    DurationSeconds: String(SESSION_SECONDS),
  });
  let response;
  try {
    response = await fetch(`${endpoint.replace(/\/+$/, '')}/`, { method: 'POST', body });
  } catch (error) {
    throw new StsError('NetworkError', `cannot reach STS at ${endpoint}: ${error.message}`);
  }
  return parseStsResponse(response.status, await response.text());
}

/** What a user should read for an STS refusal. */
export function describeStsError(error, className) {
  switch (error.code) {
    case 'AccessDenied':
      return `your login is not accepted for the ${className} role (${error.message})`;
    case 'ExpiredTokenException':
    case 'InvalidIdentityToken':
    case 'IDPRejectedClaim':
      return `your login is no longer valid; log in again (${error.message})`;
    default:
      return `could not get credentials from STS: ${error.code}: ${error.message}`;
  }
}
