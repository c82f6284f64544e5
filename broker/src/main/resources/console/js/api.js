// The console's only way to the broker: the JSON bridge to the LicenseAdmin service, the same
// service and rules the command line uses. The admin token lives in this module's memory only:
// never in storage, a cookie or the URL; signing out (or reloading) forgets it.

const SERVICE = 'licensebroker.v1.LicenseAdmin';
let token = null;

export class ApiError extends Error {
  constructor(body, status) {
    super(body.message || body.code || `HTTP ${status}`);
    this.code = body.code || '';
    this.reason = body.reason || '';
    this.field = body.field || '';
    this.status = status;
  }
}

export function signIn(value) {
  token = value;
}

export function signOut() {
  token = null;
}

export function signedIn() {
  return token !== null;
}

/** Calls one LicenseAdmin method with `request` (proto3 JSON, contract field names); the answer likewise. */
export async function call(method, request = {}) {
  if (token === null) throw new ApiError({code: 'UNAUTHENTICATED', message: 'signed out'}, 401);
  let response;
  try {
    response = await fetch(`/api/${SERVICE}/${method}`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'Authorization': `Bearer ${token}`},
      body: JSON.stringify(request),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError({code: 'UNAVAILABLE', message: 'the broker cannot be reached; is it running?'}, 0);
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch (e) {
    body = {code: 'UNKNOWN', message: text};
  }
  if (!response.ok) throw new ApiError(body, response.status);
  return body;
}

/** Every page of a listing whose response has `next_page_token`. */
export async function all(method, request, field) {
  const items = [];
  let pageToken = '';
  for (let pages = 0; pages < 50; pages++) {
    const page = await call(method, {...request, page_size: 1000, page_token: pageToken});
    items.push(...(page[field] || []));
    pageToken = page.next_page_token || '';
    if (!pageToken) break;
  }
  return items;
}
