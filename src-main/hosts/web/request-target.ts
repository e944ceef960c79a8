// The request target of an HTTP request, read defensively: only origin-form ("/path?query"), bounded in length,
// percent-decoded once with every failure turned into a message. Nothing here throws.
import { LIMITS } from '@shared/limits';

export interface RequestTarget {
  /** Decoded path, always starting with a single "/". */
  pathname: string;
  query: URLSearchParams;
}

/** The parsed target, or a message saying why the request line is refused (answered with 400). */
export function parseTarget(raw: string | undefined): RequestTarget | string {
  const url = raw ?? '/';
  if (url.length > LIMITS.WEB_MAX_URL_CHARS)
    return `request URL is ${url.length} characters, more than the limit of ${LIMITS.WEB_MAX_URL_CHARS} (WEB_MAX_URL_CHARS)`;
  if (!url.startsWith('/') || url.startsWith('//'))
    return 'request target must be a path starting with "/" (absolute URLs are not accepted)';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    return 'request path has a malformed percent escape';
  }
  if (pathname.includes('\0')) return 'request path contains a NUL character';
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  } catch {
    return 'request query cannot be parsed';
  }
  return { pathname, query };
}
