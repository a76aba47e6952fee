#!/usr/bin/env node
// Offline IAM evaluation with @cloud-copilot/iam-simulate (version pinned in package.json).
//
// stdin:  JSON list of requests.  stdout: JSON list of results, one per request, same order.
// With --lines: a JSON list per line in, its results as one line out, until stdin closes.
//
// Request (only action/resource/principal are required):
//   {"id": "any label",
//    "action": "execute-api:Invoke",
//    "resource": "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/GET/pets",
//    "principal": "arn:aws:sts::000000000000:assumed-role/pets-admin/s1",
//    "identity_policies": [<policy document> | {"name": "...", "policy": <policy document>}],
//    "resource_policy": <policy document> | null,    // a role's TRUST policy for sts:* actions
//    "context": {"key": "value" | ["v1", "v2"]}}
//
// Result, one of:
//   {"id", "status": "ok", "decision": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied",
//    "engine": "runSimulation"|"authorize", "libraryIgnoredContextKeys",
//    "oidcContextKeys", "warnings", "explain": {...}}
//   {"id", "status": "error", "error": "<code>", "message": "...", "detail": ...}
// An error result means "this request could not be evaluated faithfully"; the Python bridge raises.
//
// Why two engines paths: runSimulation (the library's validated entry point) drops every context
// key that its action data does not list for the action (simulationEngine.js
// normalizeSimulationParameters). For sts:AssumeRoleWithWebIdentity that list only names a few
// well-known issuers (accounts.google.com, cognito-identity.amazonaws.com, GitHub, ...), so keys of
// our own issuer such as "tenant.auth0.com/:aud" or "127.0.0.1:9443:sub" are silently dropped and
// every trust condition on them fails. For such requests we still run runSimulation to validate the
// policies, action and resource, and then evaluate with the library's core `authorize` (the function
// runSimulation itself calls) on the full context, cross-checked with the public runUnsafeSimulation.

import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import {
  runSimulation,
  runUnsafeSimulation,
  typeForContextKey
} from '@cloud-copilot/iam-simulate'
import {
  createValidatedPolicy,
  loadPolicy,
  validateResourcePolicy,
  validateTrustPolicy
} from '@cloud-copilot/iam-policy'

// Internals of the pinned version. The package's "exports" map hides them, so load by file URL and
// fail loudly if a version bump moved them.
const simulateEntry = import.meta.resolve('@cloud-copilot/iam-simulate')
async function internal(relPath, name) {
  const mod = await import(new URL(relPath, simulateEntry).href)
  if (typeof mod[name] !== 'function') {
    throw new Error(`iam-simulate internal ${relPath}#${name} not found: library version changed?`)
  }
  return mod[name]
}
const authorize = await internal('./core_engine/CoreSimulatorEngine.js', 'authorize')
const AwsRequestImpl = await internal('./request/request.js', 'AwsRequestImpl')
const RequestContextImpl = await internal('./requestContext.js', 'RequestContextImpl')
const DiscoveryContextKeyConstraints = await internal(
  './context_keys/discoveryContextKeyConstraints.js',
  'DiscoveryContextKeyConstraints'
)

const DECISIONS = new Set(['Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied'])

// Claims AWS exposes as "<provider host/path>:<claim>" condition keys for an IAM OIDC provider.
// amr may be multi-valued (a JWT array); the others are single strings.
const OIDC_CLAIMS = new Set(['aud', 'azp', 'sub', 'amr', 'oaud', 'email'])
const OIDC_MULTI_VALUED = new Set(['amr'])
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):oidc-provider\/(.+)$/

// Actions whose resource policy is the role's trust policy (validated with the trust-policy rules:
// Principal required, Resource forbidden).
const TRUST_ACTIONS = /^sts:(AssumeRole|AssumeRoleWithWebIdentity|AssumeRoleWithSAML|TagSession|SetSourceIdentity|SetContext)$/i

// The library treats "*" in a REQUEST resource as a pattern (resource.js: a request
// "*" matches any Allow statement; other "*" are overlap checks). A real API Gateway request ARN is
// concrete, and a "*" in it is a literal character that only a policy wildcard can match. Swapping
// it for a private-use character keeps exactly that meaning: policy "*"/"?" (regex ".*?"/".") match
// it, no literal policy character does.
const LITERAL_STAR = '\uE000'

class RequestError extends Error {
  constructor(code, message, detail) {
    super(message)
    this.code = code
    this.detail = detail
  }
}

function requireString(req, field) {
  if (typeof req[field] !== 'string' || req[field] === '') {
    throw new RequestError('request.invalid', `"${field}" must be a non-empty string`)
  }
  return req[field]
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function namedIdentityPolicies(list) {
  if (list === undefined || list === null) return []
  if (!Array.isArray(list)) throw new RequestError('request.invalid', '"identity_policies" must be a list')
  return list.map((item, index) => {
    if (!isPlainObject(item)) {
      throw new RequestError('request.invalid', `identity_policies[${index}] must be an object`)
    }
    if ('Statement' in item) return { name: `identity-${index}`, policy: item }
    if (isPlainObject(item.policy)) return { name: String(item.name ?? `identity-${index}`), policy: item.policy }
    throw new RequestError('request.invalid', `identity_policies[${index}] is neither a policy nor {name, policy}`)
  })
}

function arnAccount(arn) {
  const parts = arn.split(':')
  return parts.length >= 6 && parts[0] === 'arn' && /^\d{12}$/.test(parts[4]) ? parts[4] : undefined
}

/** Lower-cased "<provider>:<claim>" keys that AWS would put in the context for this principal. */
function oidcKeysForPrincipal(principal) {
  const match = typeof principal === 'string' ? OIDC_PROVIDER_ARN.exec(principal) : null
  if (!match) return { provider: undefined, keys: new Map() }
  const provider = match[2]
  const keys = new Map()
  for (const claim of OIDC_CLAIMS) keys.set(`${provider}:${claim}`.toLowerCase(), claim)
  return { provider, keys }
}

/**
 * Checks value types against the library's key types and sorts keys into library-known and OIDC.
 * runSimulation would silently use value[0] of a list given for a single-valued key, and drop keys
 * it does not know; both would give answers for a request other than the one asked, so refuse.
 */
async function normalizeContext(context, principal) {
  if (context === undefined || context === null) context = {}
  if (!isPlainObject(context)) throw new RequestError('request.invalid', '"context" must be an object')
  const { keys: oidcKeys } = oidcKeysForPrincipal(principal)
  const normalized = {}
  const oidcContextKeys = []
  const seen = new Set()
  for (const [key, value] of Object.entries(context)) {
    const lower = key.toLowerCase()
    if (seen.has(lower)) {
      throw new RequestError('context.key.duplicate', `context key ${key} given twice (keys are case-insensitive)`)
    }
    seen.add(lower)
    const isList = Array.isArray(value)
    if (!(typeof value === 'string' || (isList && value.every((v) => typeof v === 'string')))) {
      throw new RequestError('context.value.invalid', `context value for ${key} must be a string or a list of strings`)
    }
    const claim = oidcKeys.get(lower)
    if (claim !== undefined) {
      if (isList && !OIDC_MULTI_VALUED.has(claim)) {
        throw new RequestError('context.value.invalid', `OIDC key ${key} is single-valued; got a list`)
      }
      normalized[key] = value
      oidcContextKeys.push(key)
      continue
    }
    let type
    try {
      type = await typeForContextKey(key)
    } catch {
      throw new RequestError(
        'context.key.unknown',
        `context key ${key} is unknown to iam-simulate and is not an OIDC key of principal ${principal}` +
          ' (OIDC keys are accepted only as "<provider path from the principal ARN>:<claim>", claim one of ' +
          `${[...OIDC_CLAIMS].join(', ')})`
      )
    }
    if (type.startsWith('ArrayOf')) {
      normalized[key] = isList ? value : [value]
    } else if (isList) {
      if (value.length !== 1) {
        throw new RequestError('context.value.invalid', `context key ${key} is single-valued (${type}); got ${value.length} values`)
      }
      normalized[key] = value[0]
    } else {
      normalized[key] = value
    }
  }
  return { normalized, oidcContextKeys }
}

/** Flattens the library's analysis into plain JSON (its Statement objects are classes). */
function explainAnalysis(analysis) {
  if (!analysis) return undefined
  const section = (part) => {
    if (!part) return undefined
    const statements = []
    for (const [bucket, list] of [['deny', part.denyStatements], ['allow', part.allowStatements], ['unmatched', part.unmatchedStatements]]) {
      for (const s of list ?? []) statements.push({ policyId: s.policyId ?? null, bucket, ...s.explain })
    }
    return { result: part.result, statements }
  }
  return {
    result: analysis.result,
    sameAccount: analysis.sameAccount,
    blockedBy: analysis.blockedBy ?? [],
    identity: section(analysis.identityAnalysis),
    resource: section(analysis.resourceAnalysis)
  }
}

/** Finds condition keys that differ from the principal's OIDC keys only by case of a trailing "/". */
function oidcNearMisses(resourcePolicy, principal) {
  const { provider } = oidcKeysForPrincipal(principal)
  if (!provider || !resourcePolicy) return []
  const bare = (p) => p.toLowerCase().replace(/\/+$/, '')
  const warnings = []
  const statements = [resourcePolicy.Statement].flat().filter(isPlainObject)
  for (const statement of statements) {
    for (const block of Object.values(isPlainObject(statement.Condition) ? statement.Condition : {})) {
      for (const key of Object.keys(isPlainObject(block) ? block : {})) {
        const cut = key.lastIndexOf(':')
        const prefix = key.slice(0, cut)
        if (cut > 0 && OIDC_CLAIMS.has(key.slice(cut + 1).toLowerCase()) &&
            prefix.toLowerCase() !== provider.toLowerCase() && bare(prefix) === bare(provider)) {
          warnings.push(`condition key ${key} does not name provider "${provider}" exactly (trailing "/"), so it is never present`)
        }
      }
    }
  }
  return warnings
}

function containsString(value, needle) {
  return JSON.stringify(value ?? null).includes(needle)
}

async function evaluate(req) {
  if (!isPlainObject(req)) throw new RequestError('request.invalid', 'request must be an object')
  const action = requireString(req, 'action')
  const resource = requireString(req, 'resource')
  // null: an anonymous (unsigned) caller, whom only a resource policy's "*" principal admits.
  const principal = req.principal === null ? { type: 'Anonymous' } : requireString(req, 'principal')
  const identityPolicies = namedIdentityPolicies(req.identity_policies)
  const rawResourcePolicy = req.resource_policy ?? null
  if (rawResourcePolicy !== null && !isPlainObject(rawResourcePolicy)) {
    throw new RequestError('request.invalid', '"resource_policy" must be an object or null')
  }
  const resourceAccount = arnAccount(resource)
  if (!resourceAccount) {
    throw new RequestError('request.invalid', `resource ${resource} has no account field`)
  }

  let engineResource = resource
  if (resource.includes('*')) {
    const policies = [rawResourcePolicy, ...identityPolicies.map((p) => p.policy)]
    if (policies.some((p) => containsString(p, '${*}') || containsString(p, LITERAL_STAR))) {
      throw new RequestError('resource.literal.unsupported',
        'literal "*" in the request resource cannot be evaluated when a policy uses ${*} or U+E000')
    }
    engineResource = resource.replaceAll('*', LITERAL_STAR)
  }

  const { normalized, oidcContextKeys } = await normalizeContext(req.context, principal)
  const validator = TRUST_ACTIONS.test(action) ? validateTrustPolicy : validateResourcePolicy
  const resourcePolicy = rawResourcePolicy
    ? createValidatedPolicy(rawResourcePolicy, validator, { name: 'resourcePolicy' })
    : undefined
  const simulation = {
    request: {
      principal,
      action,
      resource: { resource: engineResource, accountId: resourceAccount },
      contextVariables: normalized
    },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy
  }

  const response = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (response.resultType === 'error') {
    throw new RequestError('library.validation', `iam-simulate rejected the request: ${response.errors.message}`, response.errors)
  }
  if (response.resultType !== 'single') {
    throw new RequestError('request.unsupported', `${resource} was evaluated as a pattern`)
  }
  const ignored = response.result.ignoredContextKeys ?? []
  const oidcLower = new Set(oidcContextKeys.map((k) => k.toLowerCase()))
  const notApplicable = ignored.filter((k) => !oidcLower.has(k.toLowerCase()))
  if (notApplicable.length > 0) {
    throw new RequestError('context.key.not.applicable',
      `iam-simulate drops context keys it does not list for ${action} on this resource: ${notApplicable.join(', ')}`,
      { ignoredContextKeys: notApplicable })
  }
  const base = {
    libraryIgnoredContextKeys: ignored,
    oidcContextKeys,
    warnings: oidcNearMisses(rawResourcePolicy, principal)
  }

  if (ignored.length === 0) {
    const explain = explainAnalysis(response.result.analysis)
    return { status: 'ok', decision: response.overallResult, engine: 'runSimulation', ...base, explain }
  }

  // Same call runSimulation makes (simulationEngine.js curriedAuthorize), with the full context.
  const policyFor = (p, name) => loadPolicy(p, { name })
  const analysis = authorize({
    request: new AwsRequestImpl(principal, { resource: engineResource, accountId: resourceAccount }, action,
      new RequestContextImpl(normalized), false),
    sessionPolicy: undefined,
    identityPolicies: identityPolicies.map((p) => policyFor(p.policy, p.name)),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: rawResourcePolicy ? policyFor(rawResourcePolicy, 'resourcePolicy') : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
  // runUnsafeSimulation is public but returns only the decision; it must agree.
  const unsafeDecision = runUnsafeSimulation(simulation, { simulationMode: 'Strict' })
  if (analysis.result !== unsafeDecision || !DECISIONS.has(unsafeDecision)) {
    throw new RequestError('engine.disagreement',
      `core authorize said ${analysis.result}, runUnsafeSimulation said ${unsafeDecision}`)
  }
  return { status: 'ok', decision: analysis.result, engine: 'authorize', ...base, explain: explainAnalysis(analysis) }
}

/** The requests of one batch, or exit 2: input that is not a list of requests is a caller's bug. */
function parseBatch(text) {
  let requests
  try {
    requests = JSON.parse(text)
  } catch (err) {
    process.stderr.write(`simulate.mjs: input is not JSON: ${err.message}\n`)
    process.exit(2)
  }
  if (!Array.isArray(requests)) {
    process.stderr.write('simulate.mjs: input must be a JSON list of requests\n')
    process.exit(2)
  }
  return requests
}

async function answer(requests) {
  const results = []
  for (const req of requests) {
    const id = isPlainObject(req) ? req.id ?? null : null
    try {
      const out = await evaluate(req)
      if (!DECISIONS.has(out.decision)) {
        throw new RequestError('library.result', `unexpected decision ${out.decision}`)
      }
      results.push({ id, ...out })
    } catch (err) {
      if (err instanceof RequestError) {
        results.push({ id, status: 'error', error: err.code, message: err.message, detail: err.detail ?? null })
      } else {
        // A library crash on one request must not hide the others, but it is still an error.
        results.push({ id, status: 'error', error: 'library.exception', message: String(err?.stack ?? err), detail: null })
      }
    }
  }
  return results
}

async function main() {
  if (process.argv.includes('--lines')) {
    // One batch per line in, its answers as one line out, until stdin closes: one process
    // serves every batch of its caller (iamsim/engine.py), which spares a Node start and a
    // cold JIT per batch.
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      process.stdout.write(JSON.stringify(await answer(parseBatch(line))) + '\n')
    }
    return
  }
  process.stdout.write(JSON.stringify(await answer(parseBatch(readFileSync(0, 'utf8')))))
}

await main()
