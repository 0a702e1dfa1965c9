/**
 * presigned_urls: short-lived GET URLs for report objects. Refuses, with a clear message, callers not
 * in the settings' `deployment.reports.url_callers`, keys outside the reports prefix, and lifetimes
 * over the cap (default 15 minutes, at most 1 hour). Invoked through an IAM-authenticated function
 * URL, so the caller's ARN comes from the request context, never from the request body.
 */
import { HeadObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export const DEFAULT_TTL_SECONDS = 15 * 60;
export const MAX_TTL_SECONDS = 60 * 60;

export interface PresignConfig {
  bucket: string;
  /** Reports prefix, without slashes at either end. */
  prefix: string;
  /** Allowed IAM role or user ARNs. */
  callers: string[];
}

export interface PresignRequest {
  key?: unknown;
  ttl_seconds?: unknown;
}

export interface PresignResult {
  url: string;
  key: string;
  ttlSeconds: number;
  expiresAt: string;
}

/** A request refused for a reason the caller can act on; `status` is the HTTP status returned. */
export class Refused extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PresignConfig {
  const bucket = env.OFFLOAD_REPORTS_BUCKET;
  if (!bucket) throw new Error('OFFLOAD_REPORTS_BUCKET is not set');
  return {
    bucket,
    prefix: (env.OFFLOAD_REPORTS_PREFIX ?? 'reports').replace(/^\/+|\/+$/g, ''),
    callers: (env.OFFLOAD_URL_CALLERS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/**
 * Whether `caller` (as Lambda reports it: an IAM user ARN or an STS assumed-role ARN) is one of the
 * allowed ARNs. An assumed role matches its role ARN (any path) in the same account and partition.
 */
export function callerAllowed(caller: string, allowed: readonly string[]): boolean {
  if (allowed.includes(caller)) return true;
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(caller);
  if (!assumed) return false;
  const [, partition, account, role] = assumed;
  return allowed.some((a) => {
    const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(a);
    return !!m && m[1] === partition && m[2] === account && m[3] === role;
  });
}

/** The object key if it is a plain key under `<prefix>/`; otherwise refused. */
export function checkKey(key: unknown, prefix: string): string {
  if (typeof key !== 'string' || !key) throw new Refused(400, '`key` (the report object key) is required');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new Refused(400, 'the key contains control characters');
  const parts = key.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new Refused(400, `the key ${JSON.stringify(key)} has an empty, "." or ".." segment`);
  if (!key.startsWith(`${prefix}/`))
    throw new Refused(403, `only report objects under ${prefix}/ can be shared; ${JSON.stringify(key)} is not`);
  return key;
}

export function checkTtl(ttl: unknown): number {
  if (ttl === undefined || ttl === null) return DEFAULT_TTL_SECONDS;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1)
    throw new Refused(400, '`ttl_seconds` must be a positive whole number of seconds');
  if (ttl > MAX_TTL_SECONDS)
    throw new Refused(400, `\`ttl_seconds\` ${ttl} is over the limit of ${MAX_TTL_SECONDS} seconds (1 hour)`);
  return ttl;
}

/** Checks everything, confirms the object exists, and signs a GET for it. */
export async function presign(
  request: PresignRequest,
  caller: string | undefined,
  config: PresignConfig,
  s3: S3Client,
  now: Date = new Date(),
): Promise<PresignResult> {
  if (!caller) throw new Refused(403, 'the caller is unknown: call the function URL with IAM (SigV4) authentication');
  if (!callerAllowed(caller, config.callers))
    throw new Refused(403, `${caller} may not request report links (deployment.reports.url_callers)`);
  const key = checkKey(request.key, config.prefix);
  const ttlSeconds = checkTtl(request.ttl_seconds);
  try {
    await s3.send(new HeadObjectCommand({ Bucket: config.bucket, Key: key }));
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) throw new Refused(404, `no report object ${key}`);
    throw e;
  }
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: config.bucket, Key: key }), {
    expiresIn: ttlSeconds,
    signingDate: now,
  });
  return { url, key, ttlSeconds, expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString() };
}

/** The part of a Lambda function-URL event this handler reads. */
export interface FunctionUrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { authorizer?: { iam?: { userArn?: string } } };
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

let client: S3Client | undefined;

/** The Lambda entry point. */
export const handler = (event: FunctionUrlEvent) => handle(event);

/** The handler with injectable dependencies (tests pass a client for the emulator). */
export async function handle(event: FunctionUrlEvent, deps: { s3?: S3Client; config?: PresignConfig } = {}) {
  const config = deps.config ?? configFromEnv();
  const s3 = deps.s3 ?? (client ??= new S3Client({}));
  let request: PresignRequest;
  try {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
    request = JSON.parse(raw || '{}') as PresignRequest;
    if (!request || typeof request !== 'object' || Array.isArray(request)) throw new Error('not an object');
  } catch {
    return json(400, { error: 'the request body must be a JSON object: {"key": "...", "ttl_seconds": 900}' });
  }
  try {
    return json(200, await presign(request, event.requestContext?.authorizer?.iam?.userArn, config, s3));
  } catch (e) {
    if (e instanceof Refused) return json(e.status, { error: e.message });
    throw e;
  }
}
